"""`make bench`: how the pipeline's time and memory grow from five documents to thousands.

Synthetic corpora of N documents (:mod:`compare.synthetic`: the real documents' sections
recombined with a fixed seed, in provinces of ten that copy their template, three documents a city,
and the real national plan as every document's parent; N counts the synthetic documents only).

For each N the build's own named stages (`compare.pipeline.STAGES`: documents, tokens, document
similarity, keyness, section pairs, shared passages …) run in one process through
`compare.pipeline.run_stages` — the code `compare build` runs — with tokens not cached, and each
is timed. Then the whole pipeline runs as `compare build` in a fresh process with nothing stored
from an earlier build (cold token cache, no per-document results), writing every table; and again
after one document is added to the built corpus (the others' results stored by the last build). `seconds` is wall time; `peak_mb` is the process's peak resident
memory so far (for a stage: the high-water mark up to the end of that stage; for the whole
pipeline: the largest process, workers included).

The report is measured against the number of cities (`--report-cities 5,25,100,300`): a synthetic
corpus of that many cities, one document each plus the national plan, is built, then every page of
its report is run and rendered by `compare report update --jobs 2` — the step `make report` runs —
and timed, with the number of pages.

    python benchmarks/bench.py [--sizes 5,50,200,1000] [--report-cities 5,25,100,300] [--repeat 3]
                               [--whole-only] [--out benchmarks/results.csv]

What a run measures replaces the same measurements in the results file — every row of a corpus size
measured again (so `--whole-only` at a size measured stage by stage drops its stage rows: one size's
figures never come from two runs), the report at the same number of cities, the same timing —,
each row with the machine that measured it; the rest are kept, so `make bench SIZES=10000 REPORT_CITIES= BENCH_ARGS="--repeat 0 --whole-only"` adds
the 10,000-document build to the others. `--repeat 0` skips the five real documents' and `make
report`'s timings; `--whole-only` measures only the whole pipeline at each size (the stage-by-stage
run and the added document each take about as long again). Remove the file to start afresh. The
builds' progress lines (`[5/8] section pairs: 120,000 of 370,000 sections scored …`) are shown as
they come, on stderr; each size's rows when it is done.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["n_docs", "n_chars", "stage", "stage_zh", "seconds", "peak_mb", "n_pages"]
REPORT = ("report pages (compare report update)", "报告页面")  # n_docs: the number of cities
WHOLE = ("whole pipeline (compare build)", "完整流程")
ADDED = ("one document added (compare build)", "新增一份文件")
REAL = ("compare build (the five real documents)", "真实文件的完整流程")
MAKE = (("make report (cold, 5 documents)", "完整报告（冷启动）"), ("make report (no-op)", "无改动时的报告"))


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: KiB


# ---------------------------------------------------------------- measuring


def write_pieces(writer, pieces) -> None:
    with writer:
        for piece in pieces:
            writer.write(piece)


def stages(paths) -> list[tuple[str, str, float, float]]:
    """Each of the build's stages, as `compare build` runs them (tokens not cached; each table written,
    into a scratch folder, once it is final): (name, zh name, wall time, the memory high-water mark at
    its end)."""
    import tempfile

    from compare import schemas
    from compare.output import TableWriter
    from compare.pipeline import run_stages
    from compare.registry import load_registry

    out = []

    def ended(_, stage, seconds: float) -> None:
        out.append((stage.name, stage.zh, seconds, peak_mb()))
        say(f"  {stage.name}: {seconds:.1f} s, memory high-water {out[-1][3]:,.0f} MB")

    with tempfile.TemporaryDirectory(dir=paths.root) as scratch:
        run_stages(
            paths,
            load_registry(paths),
            caches=False,
            on_stage=ended,
            sink=lambda name, pieces: write_pieces(
                TableWriter(Path(scratch), name, schemas.ALL_TABLES[name].list_columns), pieces
            ),
            log=say,
        )
    return out


def say(line: str) -> None:
    """A line of progress on the terminal (stderr: a size's process hands its rows over on stdout)."""
    print(line, file=sys.stderr, flush=True)


def whole_pipeline(paths) -> tuple[float, float]:
    """`compare build` in a fresh process, nothing stored from an earlier build (no token cache, no
    per-document results): (seconds, peak MB of the largest process)."""
    shutil.rmtree(paths.interim, ignore_errors=True)
    shutil.rmtree(paths.processed, ignore_errors=True)
    return timed_build(paths)


def one_document_added(paths) -> tuple[float, float]:
    """`compare build` when one document has been added to a built corpus (the corpus is first built
    without its last local document, after a whole build): (seconds, peak MB). A local plan, as a
    researcher adds one: not the national plan, every document's parent (the registry's last row)."""
    from compare.registry import REFERENCE_LEVELS, load_registry, write_registry

    registry = paths.registry.read_bytes()
    docs = load_registry(paths)
    last = max(i for i, d in enumerate(docs) if d.admin_level not in REFERENCE_LEVELS)
    write_registry(paths, docs[:last] + docs[last + 1 :])
    timed_build(paths)
    paths.registry.write_bytes(registry)
    return timed_build(paths)


def timed_build(paths) -> tuple[float, float]:
    """`compare build` in a fresh process: (seconds, peak MB of the largest process)."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=sys.stderr); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(  # the build's progress goes on to the terminal, its time and memory come back
        [sys.executable, "-c", probe, sys.executable, "-m", "compare", "--root", str(paths.root), "build"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.split()
    return float(out[0]), round(float(out[1]), 1)


def measure_size(n: int, directory: Path, whole_only: bool = False) -> list[dict]:
    """Run in a fresh process per size, so each size's memory is its own. `whole_only`: only the
    whole pipeline."""
    sys.path.insert(0, str(ROOT / "src"))
    from compare.config import Paths
    from compare.synthetic import real_parts, synthetic_corpus, write_project

    parts, chars = real_parts(Paths(ROOT))
    paths = write_project(directory / f"n{n}", synthetic_corpus(n, parts, chars), Paths(ROOT))
    n_chars = sum(len(p.read_text(encoding="utf-8")) for p in paths.raw.glob("*.txt"))
    if not whole_only:
        say(f"N={n}: the stages one after another")
    rows = [
        dict(n_docs=n, n_chars=n_chars, stage=s, stage_zh=zh, seconds=round(sec, 3), peak_mb=mb)
        for s, zh, sec, mb in ([] if whole_only else stages(paths))
    ]
    for (stage, zh), measure in ((WHOLE, whole_pipeline),) + (() if whole_only else ((ADDED, one_document_added),)):
        say(f"N={n}: {stage}")
        sec, mb = measure(paths)
        rows.append(dict(n_docs=n, n_chars=n_chars, stage=stage, stage_zh=zh, seconds=round(sec, 3), peak_mb=mb))
    return rows


def make_timings(repeat: int) -> list[dict]:
    """Cold `make report` on the five documents (processed data, executed notebooks and site removed;
    environment and token cache kept) and the no-op rerun: medians of `repeat` runs."""
    rows = []
    for (label, zh), prepare in zip(MAKE, (True, False), strict=True):
        times = []
        for _ in range(repeat):
            if prepare:
                subprocess.run(["make", "-s", "clean"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
                subprocess.run(
                    [str(ROOT / ".venv/bin/compare"), "report", "clean"],
                    cwd=ROOT,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            t = time.perf_counter()
            subprocess.run(
                ["make", "-s", "-j2", "report"],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - t)
        rows.append(
            dict(n_docs=5, n_chars="", stage=label, stage_zh=zh, seconds=round(statistics.median(times), 3), peak_mb="")
        )
    return rows


def report_timings(cities: list[int], work: Path, jobs: int = 2) -> list[dict]:
    """For each number of cities, a synthetic corpus of that many (one document each, and the national
    plan) built, then its whole report run and rendered: seconds and pages."""
    if not cities:
        return []
    sys.path.insert(0, str(ROOT / "src"))
    from compare.config import Paths
    from compare.report.plan import load_spec
    from compare.synthetic import real_parts, synthetic_corpus, write_project

    compare = [sys.executable, "-m", "compare"]
    parts, chars = real_parts(Paths(ROOT))
    rows = []
    for c in cities:
        paths = write_project(work / f"report-{c}", synthetic_corpus(c, parts, chars, per_city=1), Paths(ROOT))
        shutil.copytree(ROOT / "notebooks", paths.notebooks)
        for f in {f for e in load_spec(Paths(ROOT)) for f in e.get("files", [])}:  # what the notebooks read
            (paths.root / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, paths.root / f)
        for args in (["build"], ["report", "plan"]):
            subprocess.run([*compare, "--root", str(paths.root), *args], check=True, stdout=subprocess.DEVNULL)
        t = time.perf_counter()
        subprocess.run(
            [*compare, "--root", str(paths.root), "report", "update", "--jobs", str(jobs)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - t
        n_pages = len(json.loads((paths.build / "report-plan.json").read_text(encoding="utf-8")))
        n_chars = sum(len(p.read_text(encoding="utf-8")) for p in paths.raw.glob("*.txt"))
        rows.append(
            dict(
                n_docs=c,
                n_chars=n_chars,
                stage=REPORT[0],
                stage_zh=REPORT[1],
                seconds=round(seconds, 3),
                peak_mb="",
                n_pages=n_pages,
            )
        )
        print(f"  {c:>4} cities  {REPORT[0]:<36} {seconds:8.1f} s  {n_pages} pages", flush=True)
    return rows


def machine() -> str:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def _at_least_zero(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value}: a number of runs, 0 or more")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,50,200,1000")
    ap.add_argument("--report-cities", default="5,25,100,300", help="numbers of cities to time the report at")
    ap.add_argument(
        "--repeat",
        type=_at_least_zero,
        default=3,
        help="runs of the five real documents' build and of each make report timing (median); 0: none of them",
    )
    ap.add_argument("--whole-only", action="store_true", help="only the whole pipeline at each size")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.csv")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print CSV rows
    args = ap.parse_args()
    if args.one is not None:
        w = csv.DictWriter(sys.stdout, COLUMNS, lineterminator="\n")
        w.writerows(measure_size(args.one, args.work, args.whole_only))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",") if x):
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--work", str(args.work)]
            + (["--whole-only"] if args.whole_only else []),
            stdout=subprocess.PIPE,  # its rows; its progress and errors go to the terminal as they come
            text=True,
        )
        if proc.returncode:
            sys.exit(f"bench: N={n} failed (its error is above)")
        for row in csv.DictReader(io.StringIO(proc.stdout), COLUMNS):
            rows.append(row)
            print(
                f"  N={row['n_docs']:>5}  {row['stage']:<32} {float(row['seconds']):8.2f} s  {row['peak_mb']:>8} MB",
                flush=True,
            )
    if args.repeat:
        from compare.config import Paths
        from compare.registry import load_registry, write_registry
        from compare.synthetic import SOURCE_DOCUMENTS

        real = Paths(args.work / "real")  # the five real documents, as `compare build` runs them
        shutil.rmtree(real.root, ignore_errors=True)
        real.raw.mkdir(parents=True)
        docs = [d for d in load_registry(Paths(ROOT)) if d.doc_id in SOURCE_DOCUMENTS]
        for d in docs:
            shutil.copy2(ROOT / "data" / "raw" / d.file, real.raw / d.file)
        write_registry(real, docs)
        times = [whole_pipeline(real) for _ in range(args.repeat)]
        row = dict(
            n_docs=len(docs),
            n_chars=sum(len(p.read_bytes().decode("utf-8")) for p in real.raw.glob("*.txt")),
            stage=REAL[0],
            stage_zh=REAL[1],
            seconds=round(statistics.median(t for t, _ in times), 3),
            peak_mb=max(m for _, m in times),
        )
        rows.append(row)
        print(f"  {row['stage']:<42} {row['seconds']:8.2f} s (median of {len(times)})  {row['peak_mb']} MB", flush=True)
    rows += report_timings([int(x) for x in args.report_cities.split(",") if x], args.work)
    write_results(args.out, rows)  # the report pages the make timings render read these
    if args.repeat:
        for row in make_timings(args.repeat):
            rows.append(row)
            print(f"  {row['stage']:<42} {row['seconds']:8.2f} s (median of {args.repeat})", flush=True)
        write_results(args.out, rows)
    print(f"→ {args.out}")


def _place(row: dict) -> tuple:
    """A row's place in the results file: the sizes (each size's stages in the order they run), the
    five real documents, the report by number of cities, the make timings."""
    from compare.pipeline import STAGES

    order = [s.name for s in STAGES] + [WHOLE[0], ADDED[0]]
    stage, n = row["stage"], int(row["n_docs"])
    if stage == REAL[0]:
        return (1, 0, 0)
    if stage == REPORT[0]:
        return (2, n, 0)
    make = [label for label, _ in MAKE]
    if stage in make:
        return (3, 0, make.index(stage))
    return (0, n, order.index(stage) if stage in order else len(order))


def merged(old: list[dict], new: list[dict], machine_now: str) -> list[dict]:
    """The rows of the results file after a run: `new` (measured on `machine_now`) in place of the old
    rows of the same measurement — every old row of a corpus size measured again (so that one size's
    stages never come from two runs), the same number of cities, the same timing —, the other old
    rows kept with the machine that measured them; in :func:`_place` order."""
    measured = {(r["stage"], int(r["n_docs"])) for r in new}
    sizes = {int(r["n_docs"]) for r in new if _place(r)[0] == 0}
    kept = [
        r
        for r in old
        if (r["stage"], int(r["n_docs"])) not in measured and not (_place(r)[0] == 0 and int(r["n_docs"]) in sizes)
    ]
    rows = kept + [{**r, "machine": machine_now} for r in new]
    return sorted(rows, key=_place)


def write_results(out: Path, rows: list[dict]) -> None:
    """`rows` merged into the results file (:func:`merged`), written whole and atomically."""
    old = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))) if out.exists() else []
    now = merged(old, rows, machine())
    remaining = {(r["stage"], str(r["n_docs"])) for r in now}
    for r in old:  # a size measured again takes all its old rows with it, measured this time or not
        if (r["stage"], r["n_docs"]) not in remaining:
            print(f"  dropped: {r['stage']} at {r['n_docs']} documents, from an earlier run of that size", flush=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, [*COLUMNS, "machine"], lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(now)
    from compare.output import atomic_write_text

    atomic_write_text(out, buf.getvalue())


if __name__ == "__main__":
    main()
