"""The registry as a spreadsheet program leaves it: every way Excel or WPS saves registry.csv is read
the same as the original; what cannot be read is refused naming the line and the fix; no bytes at all
make an internal error."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare.config import Paths
from compare.errors import CompareError
from compare.registry import REGISTRY_COLUMNS, load_registry, normal_date, write_registry

from .conftest import REPO, refused, run_cli

ORIGINAL = (REPO / "data" / "raw" / "registry.csv").read_text(encoding="utf-8")
DOCS = load_registry(Paths(REPO))


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(ORIGINAL)))


def _csv(rows, columns, delimiter=",", line_end="\r\n") -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, columns, delimiter=delimiter, lineterminator=line_end, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _as_excel_saves(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding == "utf-16":  # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def _excel_dates(rows):
    out = []
    for r in rows:
        d = r["issued_date"]
        if d:
            y, m, day = d.split("-")
            d = f"{y}/{int(m)}/{int(day)}"
        out.append(dict(r, issued_date=d))
    return out


VARIANTS = {
    "gbk, crlf": ("gbk", ","),
    "gb18030, crlf": ("gb18030", ","),
    "utf-8 with bom": ("utf-8-sig", ","),
    "unicode text (utf-16, tabs)": ("utf-16", "\t"),
    "semicolons": ("utf-8", ";"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_registry_saved_by_excel_reads_as_the_original(tmp_path, variant):
    encoding, delimiter = VARIANTS[variant]
    rows = _excel_dates(_rows())
    columns = list(reversed(REGISTRY_COLUMNS)) + ["备注 notes"]  # reordered, with a column of one's own
    rows = [dict(r, **{"备注 notes": "已核对"}) for r in rows]
    text = _csv(rows, columns, delimiter) + delimiter * (len(columns) - 1) + "\r\n" * 3  # trailing empty rows
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    paths.registry.write_bytes(_as_excel_saves(text, encoding))
    assert load_registry(paths) == DOCS


def test_writing_keeps_the_researchers_own_columns_and_writes_utf8(tmp_path):
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    rows = [dict(r, 备注="来源：政府网站") for r in _rows()]
    paths.registry.write_bytes(_csv(rows, REGISTRY_COLUMNS + ["备注"]).encode("gbk"))
    write_registry(paths, load_registry(paths))
    text = paths.registry.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(REGISTRY_COLUMNS + ["备注"])
    assert text.count("来源：政府网站") == len(DOCS) and "\r" not in text


def test_dates_as_people_and_excel_write_them():
    for written in ("2021/3/2", "2021-3-2", "2021年3月2日", "2021.03.02", "2021/3/2 0:00", " 2021-03-02 "):
        assert normal_date(written) == "2021-03-02", written
    assert normal_date("March 2021") == "March 2021"


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda rows: [dict(rows[1], doc_id="Zhongwei City")] + rows[1:], ["line 2", "'doc_id'", "slug"]),
        (lambda rows: rows[:2] + [dict(rows[2], issued_date="2020/13/45")] + rows[3:], ["line 4", "issued_date"]),
        (lambda rows: rows + [dict(rows[0], file="x.txt")], ["line 8", "already used on line 2"]),
        (lambda rows: [dict(r, admin_level="city") for r in rows], ["line 2", "admin_level", "prefecture"]),
    ],
)
def test_what_cannot_be_read_is_refused_naming_the_line(built_project, edit, needles):
    built_project.registry.write_bytes(_csv(edit(_rows()), REGISTRY_COLUMNS).encode("gbk"))
    refused(run_cli(built_project, "build"), "registry.csv", *needles)


def test_a_deleted_column_and_a_row_with_extra_cells_are_refused(built_project):
    columns = [c for c in REGISTRY_COLUMNS if c != "status"]
    built_project.registry.write_text(_csv(_rows(), columns), encoding="utf-8")
    refused(run_cli(built_project, "build"), "line 1", "lacks the column(s) status")
    text = ORIGINAL.replace("qingyang.txt,", "qingyang.txt,extra,", 1)
    built_project.registry.write_text(text, encoding="utf-8")
    refused(run_cli(built_project, "build"), "line 2", "more cells than the header")


def test_a_registry_that_is_not_text_is_refused(built_project):
    built_project.registry.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # an .xlsx saved as registry.csv
    refused(run_cli(built_project, "build"), "registry.csv: cannot be read as a table of text", "CSV")


# ---- no input makes an internal error

EDITS = st.lists(
    st.tuples(st.integers(0, len(ORIGINAL.encode("utf-8"))), st.binary(max_size=8), st.integers(0, 6)), max_size=6
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
    edits=EDITS,
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_edit_of_the_registry_is_read_or_refused(tmp_path_factory, encoding, edits, line_end):
    paths = Paths(tmp_path_factory.mktemp("registry"))
    paths.raw.mkdir(parents=True, exist_ok=True)
    data = bytearray(_as_excel_saves(ORIGINAL.replace("\n", line_end), encoding))
    for at, inserted, deleted in edits:
        at = min(at, len(data))
        data[at : at + deleted] = inserted
    paths.registry.write_bytes(bytes(data))
    try:
        load_registry(paths)
    except CompareError as e:
        assert str(e).startswith(str(paths.registry)), str(e)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_any_bytes_as_the_registry_are_read_or_refused(tmp_path_factory, data):
    paths = Paths(tmp_path_factory.mktemp("registry"))
    paths.raw.mkdir(parents=True, exist_ok=True)
    paths.registry.write_bytes(data)
    try:
        load_registry(paths)
    except CompareError as e:
        assert str(e).startswith(str(paths.registry)), str(e)
