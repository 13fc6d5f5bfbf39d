"""The command line: ``compare build``, ``compare add``, ``compare metrics``, ``compare evaluate`` …

Input: arguments. Output: the command's work, progress on stdout, warnings and errors on
stderr. A problem with the user's input prints one paragraph (file, problem, fix) and exits
with status 2; there is never a traceback unless COMPARE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from .config import Paths
from .errors import CompareError


def _cmd_build(args: argparse.Namespace) -> int:
    from .registry import load_registry, verify_files

    paths = Paths(args.root)
    docs = load_registry(paths)
    warnings = verify_files(paths, docs)  # a bad registry or raw file is refused before the heavy imports
    from .cluster import connected, scheduler_address
    from .pipeline import build

    address = scheduler_address(args.scheduler)
    if address is None:
        build(paths, checked=(docs, warnings), keep_tables=False)
        return 0
    with connected(address, paths):
        build(paths, checked=(docs, warnings), keep_tables=False)
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .intake import add_document, add_manifest

    paths = Paths(args.root)
    if args.manifest:
        if args.path:
            raise CompareError(f"give either a document ({args.path}) or --manifest FILE, not both.")
        docs = add_manifest(paths, Path(args.manifest))
        for doc in docs:
            print(f"added {doc.doc_id}: data/raw/{doc.file} ({doc.title or 'title not stated'})")
        print(f"{len(docs)} documents added. Run `make report` to include them in every table, chart and page.")
        return 0
    if not args.path or not args.city or not args.name_zh:
        raise CompareError(
            "compare add needs the document and its city: compare add PATH --city SLUG --name-zh 名称 "
            "(or many at once: compare add --manifest FILE)."
        )
    doc = add_document(
        paths,
        Path(args.path),
        city=args.city,
        city_zh=args.name_zh,
        city_en=args.name_en or "",
        province=args.province or "",
        admin_level=args.level,
        title=args.title or "",
        doc_number=args.doc_number or "",
        issued_date=args.issued or "",
        status=args.status or "",
        doc_id=args.doc_id or "",
        issuer=args.issuer or "",
    )
    print(f"added {doc.doc_id}: data/raw/{doc.file} (sha256 {doc.sha256[:12]}…)")
    for field in ("title", "doc_number", "issued_date", "issuer"):
        value = getattr(doc, field)
        print(
            f"  {field:<12} {value or '(not stated in the document; pass it with --' + field.replace('_', '-').replace('issued-date', 'issued') + ')'}"
        )
    print(f"  status       {doc.status}")
    print("Run `make report` to include it in every table, chart and page.")
    return 0


def _load_built(paths: Paths):
    from .tables import table

    tables = {name: table(name, paths) for name in ("targets", "target_mentions", "documents")}
    texts = {d: (paths.text / f"{d}.txt").read_text(encoding="utf-8") for d in tables["documents"].doc_id}
    return tables, texts


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .evaluate import evaluate, load_gold

    paths = Paths(args.root)
    tables, texts = _load_built(paths)
    gold = load_gold(Path(args.gold) if args.gold else paths.root / "tests" / "gold" / "targets.csv")
    print(evaluate(tables["targets"], tables["target_mentions"], texts, gold).report())
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics import catalogue

    paths = Paths(args.root)
    tables, _ = _load_built(paths)
    targets = tables["targets"]
    if args.unmapped:
        rows = targets[targets.metric.str.startswith("label:")]
        print(f"{len(rows)} of {len(targets)} targets fit no catalogue entry (src/compare/data/metrics.yaml):")
        for r in rows.itertuples():
            print(f"  {r.city:<12} {r.value_text:<10} {r.label:<28} {r.unit:<8} {r.target_id:<18} {r.source_text[:50]}")
        return 0
    counts = targets.groupby("metric").city.agg(lambda c: ", ".join(sorted(set(c))))
    print(f"{len(catalogue())} catalogue metrics ({len(targets)} targets):")
    for m in catalogue():
        print(f"  {m.id:<32} {m.unit:<8} {m.en}  [{counts.get(m.id, '—')}]")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    paths = Paths(args.root)
    if args.action == "plan":
        from .report.plan import write_plan

        pages = write_plan(paths)
        print(f"report plan: {len(pages)} pages → {paths.build / 'report-plan.json'}")
    elif args.action == "update":
        from .report.update import update

        update(paths, jobs=args.jobs)
    elif args.action == "pair":
        from .report.plan import pair_page
        from .report.render import render_page
        from .report.run import progress, run_page

        if len(args.pages) != 2:
            raise CompareError("report pair takes two city slugs, e.g. `compare report pair qingyang wuwei`.")
        page = pair_page(paths, *args.pages)
        progress(page.name, run_page(page, paths))
        render_page(page, paths)
        print(
            f"{paths.site / (page.name + '.html')} written. Pages outside the plan go at the next `make report`; "
            f"to keep this one, list [{', '.join(page.parameters.values())}] under pairs in notebooks/reports.yaml."
        )
    elif args.action == "run":
        from .report.run import progress, run_page

        for name in args.pages:
            progress(name, run_page(name, paths))
    elif args.action == "render":
        from .report.render import render_page

        for name in args.pages:
            render_page(name, paths)
    elif args.action == "index":
        from .report.index import write_index

        write_index(paths)
    elif args.action == "clean":
        from .report.render import remove_outputs

        remove_outputs(paths)
    elif args.action == "screenshots":
        from .report.browser import screenshots

        for path in screenshots(paths):
            print(f"  {path.relative_to(paths.root)}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from .docs import generated
    from .output import atomic_write_text
    from .pipeline import STAGES

    paths = Paths(args.root)
    for path, text in generated(paths, STAGES).items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            atomic_write_text(path, text)
        print(f"  {path.relative_to(paths.root)} {'(unchanged)' if old == text else 'written'}")
    return 0


def _books(paths: Paths, files: list[str] | None, install: bool = False):
    """The codebooks a coding command uses: every codebook in use, or those of --codebook FILE…
    (checked with the others; with `install` copied into data/coding/codebooks/ so the build uses them)."""
    from pathlib import Path

    from .codebooks import checked, codebooks, load_codebook
    from .output import atomic_write_text

    books = codebooks(paths)
    if not files:
        return books
    own = [load_codebook(Path(f)) for f in files]
    ids = {b.id for b in own}
    every = checked([b for b in books if b.id not in ids] + own)
    if install:
        for f, book in zip(files, own, strict=True):
            target = paths.coding / "codebooks" / f"{book.id}.yaml"
            text = Path(f).read_text(encoding="utf-8")
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                atomic_write_text(target, text)
                print(
                    f"codebook {book.id}: installed as {target.relative_to(paths.root)} (the build pre-labels with it)"
                )
    chosen = ids | {b.none_with for b in own if b.none_with}
    return tuple(b for b in every if b.id in chosen)


def _cmd_code(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import coding

    paths = Paths(args.root)
    if args.action == "export":
        books = _books(paths, args.codebook, install=True)
        if not args.coder and not args.qdpx:
            raise CompareError(
                "compare code export needs --coder NAME (a coder's sheet) or --qdpx (a REFI-QDA project)."
            )
        if args.coder:
            out = coding.export_sheet(paths, args.coder, books, blind=args.blind)
            print(f"coding sheet for {args.coder}: {out.relative_to(paths.root)}")
            print(
                "  code it in Excel or WPS (a drop-down per codebook), then: compare code import "
                + str(out.relative_to(paths.root))
            )
        if args.qdpx:
            from .qdpx import export_project

            project, book = export_project(paths, books)
            print(f"REFI-QDA project: {project.relative_to(paths.root)} (open it in NVivo, MAXQDA or ATLAS.ti)")
            print(f"REFI-QDA codebook: {book.relative_to(paths.root)}")
    elif args.action == "import":
        books = _books(paths, args.codebook)
        if not args.file:
            raise CompareError("compare code import needs the file: compare code import data/coding/sheets/NAME.xlsx")
        path = Path(args.file)
        if path.suffix.lower() == ".qdpx":
            from .qdpx import import_project

            results = import_project(paths, path, books, coder=args.coder)
        else:
            results = [coding.import_sheet(paths, path, books)]
        for r in results:
            who = r.name if r.kind == "coder" else "the adjudication"
            print(
                f"imported {r.coded} unit(s) coded by {who} → {r.record.relative_to(paths.root)} ({len(r.codes)} codes in all)"
            )
        print("Run `make report` to show them in the instrument pages.")
    elif args.action == "agree":
        books = _books(paths, args.codebook)
        if args.framework:
            known = {b.id for b in books}
            unknown = [f for f in args.framework if f not in known]
            if unknown:
                raise CompareError(
                    f"--framework {', '.join(unknown)}: not a codebook in use ({', '.join(sorted(known))})."
                )
            books = tuple(b for b in books if b.id in args.framework)
        gold = Path(args.gold) if args.gold else None
        result = coding.agree(paths, books, args.coders, gold)
        for ag in result.agreements:
            print(coding.report(ag))
            print()
        if result.sheet:
            print(f"{result.disagreements} disagreement(s) to decide: {result.sheet.relative_to(paths.root)}")
            print(
                "  decide each in its `code` column, then: compare code import "
                + str(result.sheet.relative_to(paths.root))
            )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .export import export

    paths = Paths(args.root)
    for path in export(paths, args.format, Path(args.out) if args.out else None):
        print(f"  {path}")
    return 0


def _cmd_cite(args: argparse.Namespace) -> int:
    from .cite import citation

    print(citation(Paths(args.root)))
    return 0


COMMANDS = {
    "add": (_cmd_add, "copy a document into data/raw/ and register it (no code change needed)"),
    "build": (_cmd_build, "build every processed table from data/raw/ into data/processed/"),
    "metrics": (_cmd_metrics, "list the metric catalogue and which cities set each metric"),
    "evaluate": (_cmd_evaluate, "score the targets table against a hand-coded gold file"),
    "report": (_cmd_report, "plan, run and render the report notebooks (the Makefile drives this)"),
    "code": (_cmd_code, "policy-instrument coding: export coders' sheets, import them, measure their agreement"),
    "export": (
        _cmd_export,
        "write every table for Excel (one workbook), Stata (.dta), R and Python (feather, parquet)",
    ),
    "cite": (_cmd_cite, "how to cite this build: version, commit, the documents and their dates (text and BibTeX)"),
    "docs": (
        _cmd_docs,
        "regenerate docs/data-dictionary.md, the measured table of docs/performance.md and the estimates of docs/cluster.md",
    ),
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare",
        description="Line up the quantitative targets and the text of Chinese cities' vocational-education plans.",
        epilog="Run `compare COMMAND --help` for a command's options. The Makefile calls these commands; "
        "they never need the Makefile.",
    )
    parser.add_argument("--root", help="project folder (default: the checkout this package is installed from)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if name == "add":
            p.add_argument(
                "path", nargs="?", help="the document: text (UTF-8, GB18030/GBK, UTF-16), .html, .docx or .pdf"
            )
            p.add_argument(
                "--manifest",
                metavar="FILE",
                help="add every document a .csv or .xlsx lists (one row each; columns named after these flags: path, "
                "city, name_zh, name_en, province, level, title, doc_number, issued, status, issuer, doc_id) — all or none",
            )
            p.add_argument("--city", help="city slug, lowercase ASCII (e.g. lanzhou); shared by a city's documents")
            p.add_argument("--name-zh", help="the city's Chinese name, e.g. 兰州市")
            p.add_argument("--name-en", help="the city's English name (default: from the slug)")
            p.add_argument("--province", help="the province, as written, e.g. 甘肃省")
            p.add_argument(
                "--level",
                default="prefecture",
                choices=["national", "province", "prefecture", "district"],
                help="administrative level of the issuer (default: prefecture)",
            )
            p.add_argument("--title", help="the document's title (default: read from the document)")
            p.add_argument("--doc-number", help="its 文号 (default: read from the document)")
            p.add_argument("--issued", help="date of issue, YYYY-MM-DD (default: read from the document)")
            p.add_argument("--status", choices=["final", "draft"], help="default: draft if it says 征求意见稿")
            p.add_argument("--issuer", help="the issuing body (default: read from the document)")
            p.add_argument("--doc-id", help="the document's id (default: the city slug, or city-2, city-3 …)")
        if name == "build":
            p.add_argument(
                "--scheduler",
                metavar="ADDRESS",
                help="run the per-document stages, scoring blocks and passage partitions as tasks on the Dask "
                "cluster whose scheduler is at ADDRESS (tcp://HOST:8786; default: $COMPARE_SCHEDULER, else this "
                "machine's cores); the outputs are the same bytes",
            )
        if name == "metrics":
            p.add_argument(
                "--unmapped",
                action="store_true",
                help="list the targets that fit no catalogue entry, so the catalogue can grow",
            )
        if name == "report":
            p.add_argument(
                "action",
                choices=["plan", "update", "pair", "run", "render", "index", "clean", "screenshots"],
                help="plan: expand notebooks/reports.yaml into build/report-plan.json and build/report-inputs.json; "
                "update: run and render every out-of-date page on --jobs kept kernels, then the index (make report); "
                "pair A B: the page of any two cities; "
                "run PAGE…: execute pages' notebooks with papermill; render PAGE…: write site/PAGE.html; "
                "index: write site/index.html; clean: delete the generated site and figures; "
                "screenshots: PNGs of the index and one page per notebook in build/screenshots/",
            )
            p.add_argument(
                "pages",
                nargs="*",
                help="page names, e.g. 03-city-qingyang (see build/report-plan.json); pair: two cities",
            )
            p.add_argument(
                "--jobs",
                type=int,
                default=min(4, os.cpu_count() or 1),
                help="update: kernels run at once (default: one per core, at most 4)",
            )
        if name == "code":
            p.add_argument(
                "action",
                choices=["export", "import", "agree"],
                help="export: a coder's Excel sheet (--coder) and/or a REFI-QDA project (--qdpx); "
                "import FILE: a coded sheet, the adjudication sheet or a .qdpx back into data/coding/; "
                "agree: two codings' agreement (percent, Cohen's kappa, Krippendorff's alpha) and the "
                "adjudication sheet of their disagreements",
            )
            p.add_argument("file", nargs="?", help="import: the .xlsx or .qdpx to read")
            p.add_argument(
                "--coder", help="export: the coder's name (letters, digits, _ . -); import .qdpx: whose codes"
            )
            p.add_argument("--blind", action="store_true", help="export: hide the rules' pre-labels from the coder")
            p.add_argument(
                "--qdpx",
                action="store_true",
                help="export: data/coding/compare.qdpx (documents, codebooks, every coding) and codebook.qdc",
            )
            p.add_argument(
                "--codebook",
                action="append",
                metavar="FILE",
                help="use this codebook YAML (repeatable); export installs it in data/coding/codebooks/",
            )
            p.add_argument("--framework", action="append", help="agree: only this codebook id (repeatable)")
            p.add_argument(
                "--coders",
                nargs=2,
                metavar=("A", "B"),
                help="agree: the two codings — coder names, `rule` (the pre-labels), `adjudicated` or `gold` "
                "(default: the two coders, or rule against gold when --gold is given)",
            )
            p.add_argument("--gold", help="agree: a hand-coded CSV (unit_id and one column per codebook), as `gold`")
        if name == "export":
            p.add_argument(
                "--format",
                required=True,
                choices=["xlsx", "dta", "feather", "parquet"],
                help="xlsx: data/processed/compare.xlsx, a sheet per table; dta: Stata 14+ files with variable and "
                "value labels; feather, parquet: for R (arrow) and Python",
            )
            p.add_argument(
                "--out",
                help="the folder to write into (default: data/processed/ for xlsx, data/export/FORMAT/ otherwise)",
            )
        if name == "evaluate":
            p.add_argument("--gold", help="gold CSV (default tests/gold/targets.csv; format in tests/gold/CODEBOOK.md)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CompareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (compare … | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted; outputs are as they were before this run", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in compare, not in the user's input
        if os.environ.get("COMPARE_DEBUG"):
            traceback.print_exc()
        print(
            f"compare: internal error ({type(e).__name__}: {e}). This is a bug in compare, not in your input; "
            "rerun with COMPARE_DEBUG=1 to see the traceback and report it.",
            file=sys.stderr,
        )
        return 1
