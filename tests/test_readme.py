"""The README documents every column of every processed table."""

import re

from compare.schemas import ALL_TABLES

from .conftest import REPO


def test_readme_documents_every_table_column():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, table in ALL_TABLES.items():
        m = re.search(rf"^### {name}\n(.*?)(?=^#)", readme, re.M | re.S)
        assert m, f"README has no '### {name}' section"
        section = m.group(1)
        documented = set(re.findall(r"`([a-z_0-9]+)`", section))
        if name == "documents":  # "`doc_id` … `sha256`" stands for the registry fields
            from compare.corpus import REGISTRY_COLUMNS
            documented |= set(REGISTRY_COLUMNS)
        missing = [c for c in table.columns if c not in documented]
        assert not missing, f"README section '{name}' does not document {missing}"
