"""The project's set-up promises: pinned, consistent environments; raw data untouched; make help."""

import hashlib
import re
import subprocess
import tomllib

import yaml

from .conftest import REPO

SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def _requirement(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = dict(_requirement(s) for s in pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"])
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    declared = dict(_requirement(s) for s in conda + [p for p in pip if not p.startswith("-")])
    py = declared.pop("python")
    assert py.startswith(">=" + pyproject["requires-python"].removeprefix(">="))
    declared.pop("pip")
    assert declared == wanted
    assert "-e ." in pip


def test_lock_pins_every_dependency_within_its_range():
    from packaging.requirements import Requirement

    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in requirements.lock"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier}"


def test_raw_files_match_the_registry_and_the_shared_corpus():
    import csv

    with open(REPO / "data" / "raw" / "registry.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["doc_id"] for r in rows] == ["qingyang", "zhongwei", "wuwei", "qinhuangdao", "shangdang", "national"]
    for r in rows:
        data = (REPO / "data" / "raw" / r["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        if SHARED_CORPUS.exists():
            assert data == (SHARED_CORPUS / r["file"]).read_bytes()


def test_make_help_lists_the_everyday_targets():
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in ("report", "test", "env", "lock", "clean"):
        assert re.search(rf"make {target}\s+\S", out), target


def test_the_makefile_knows_every_table_and_what_the_build_reads():
    """Make's TABLES list is ALL_TABLES (a page reading a table make does not know of would not rerun
    when it changes); the build's prerequisites include the codebooks and the coders' codes."""
    from compare.schemas import ALL_TABLES

    out = subprocess.run(["make", "-s", "-pn", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    tables = re.search(r"^TABLES := (.*)$", out, flags=re.M).group(1)
    listed = re.findall(r"data/processed/(\w+)\.parquet", tables)
    assert sorted(listed) == sorted(ALL_TABLES)
    source = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "src/compare/data/codebooks/*.yaml" in source
    assert "$(PROCESSED_STAMP): $(RAW) $(PIPELINE_SRC) $(CODING)" in source


def test_the_citation_names_the_version_of_the_package():
    import compare

    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["authors"]
    assert cff["version"] == project["version"] == compare.__version__
    assert cff["license"] == project["license"]
