"""Charts that render the same everywhere: the bundled CJK font, bilingual labels, cited sources.

Input: processed tables (via :func:`compare.tables.table`) and matplotlib figures the
notebooks draw. Output: ``figures/<name>.png`` and ``.svg`` — byte-reproducible (no dates in
the metadata, fixed SVG ids, text as paths) — and the HTML that shows a figure on the site with
its sources underneath. A figure whose text would fall back to a missing glyph is an error.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
import warnings
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from .config import FONT_FILE, REPORT_PAGES, WHOLE_PIPELINE, Paths  # noqa: E402
from .lexicon import lexicon  # noqa: E402
from .output import atomic_write_bytes  # noqa: E402
from .registry import REFERENCE_LEVELS  # noqa: E402
from .tables import LINEAGE_COLOURS, LINEAGE_NAMES, REFERENCE_EN, REFERENCE_ZH  # noqa: E402

FONT_NAME = "Noto Sans CJK SC"
DPI = 150
PALETTE = "colorblind"


class MissingGlyphError(RuntimeError):
    """Text in a figure has characters the bundled font lacks (it would render as boxes)."""


@lru_cache(maxsize=1)
def _register_font() -> str:
    font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(fname=str(FONT_FILE)).get_name()


def setup() -> None:
    """The one plotting setup: seaborn's theme, then the bundled font (the theme would reset it)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    name = _register_font()
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [name, "DejaVu Sans"],
            "axes.unicode_minus": True,  # the bundled font has U+2212, so minus signs render
            "svg.fonttype": "path",  # glyphs as outlines: the SVG needs no font on the reader's machine
            "svg.hashsalt": "compare",  # stable ids inside SVG files
            "figure.dpi": 100,
            "savefig.bbox": "tight",
            "figure.max_open_warning": 0,
        }
    )


def _render(fig, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buf, format=fmt, **kw)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    if missing:
        raise MissingGlyphError("; ".join(sorted(set(missing))[:5]))
    return buf.getvalue()


# The ids matplotlib gives a clip path (p…), a marker (m…) or a collection's path (C…_…_…): a hash of
# the shape's coordinates at full precision, whose last bits differ from one CPU to another.
_HASHED_ID = re.compile(rb'id="((?:p|m)[0-9a-f]{10}|C\d+_\d+_[0-9a-f]{10})"')


def stable_svg_ids(svg: bytes) -> bytes:
    """The SVG with each hashed id renamed by the order it is defined in (clip0, marker1, …), so the
    file is the same on every machine: the coordinates it prints are rounded, the hashes were not."""
    names: dict[bytes, bytes] = {}
    for m in _HASHED_ID.finditer(svg):
        kind = {ord("p"): b"clip", ord("m"): b"marker"}.get(m.group(1)[0], b"path")
        names.setdefault(m.group(1), kind + str(len(names)).encode())
    if not names:
        return svg
    return re.sub(b"|".join(re.escape(k) for k in names), lambda m: names[m.group()], svg)


def save(fig, name: str, alt: str, sources: str, paths: Paths | None = None):
    """Write figures/<name>.png and .svg and return the HTML that shows the figure with its sources.

    The sources (documents and sections) are printed under the chart inside the image too, so
    a figure copied out of the site still cites them.
    """
    paths = paths or Paths()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tight_layout cannot place every layout (clustermap); that is fine
        fig.tight_layout()
    if sources:
        fig.text(
            0.0, 0.0, sources, ha="left", va="top", fontsize=7, color="#555555", wrap=True, transform=fig.transFigure
        )
    png = _render(fig, "png", dpi=DPI, metadata={"Software": None})
    svg = stable_svg_ids(_render(fig, "svg", metadata={"Date": None, "Creator": None}))
    plt.close(fig)
    atomic_write_bytes(paths.figures / f"{name}.png", png)
    atomic_write_bytes(paths.figures / f"{name}.svg", svg)
    from IPython.display import HTML

    return HTML(
        f'<figure class="chart"><img src="../figures/{html.escape(name)}.png" alt="{html.escape(alt)}" '
        f'style="max-width:100%"><figcaption>图表文件 Chart files: <a href="../figures/{html.escape(name)}.png">PNG</a> · '
        f'<a href="../figures/{html.escape(name)}.svg">SVG</a></figcaption></figure>'
    )


# ---- labels


def short_value(row) -> str:
    """A target's value as a compact bilingual-neutral string: ≥50%, 1–2, ≈10, 500,000元."""

    def num(v: float) -> str:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"

    lex = lexicon()
    symbol = lex.comparators[row.comparator].symbol
    if lex.kind(row.unit) == "ratio":  # as printed (4:6), without the comparator phrase after it
        printed = next((row.value_text[: -len(p)] for p, _ in lex.after if row.value_text.endswith(p)), row.value_text)
        return f"{symbol}{printed}"
    value = num(row.value) + (f"–{num(row.value_max)}" if pd.notna(row.value_max) else "")
    return f"{symbol}{value}{lex.units[row.unit].suffix}"


def document_label(docs: pd.DataFrame, doc_id: str) -> str:
    """City names (the national plan: 国家（参照）National (reference)), and the document when a
    city has several."""
    d = docs.set_index("doc_id").loc[doc_id]
    several = (docs.city == d.city).sum() > 1
    zh, en = (REFERENCE_ZH, REFERENCE_EN) if d.admin_level in REFERENCE_LEVELS else (d.city_zh, d.city_en)
    return f"{zh} {en}" + (f" ({doc_id})" if several else "")


def cite_documents(docs: pd.DataFrame, listed: int = 12) -> str:
    """The documents a chart draws on: each by its 文号 (else title), or the first `listed` and a count."""
    parts = [f"{d.city_zh} {d.doc_number or '《' + d.title[:24] + '》'}" for d in docs.itertuples()]
    if len(parts) > listed:
        parts = [
            *parts[:listed],
            f"… and {len(parts) - listed} more 等 {len(parts)} 份文件 (all in the documents table)",
        ]
    return "来源 Sources: " + "；".join(parts)


# Above this many cities an overview chart stops giving each city a row, a bar or an annotated cell
# and shows the distribution instead (the five-city charts keep their look).
MANY_CITIES = 24


def _many(names: pd.DataFrame) -> bool:
    """More cities (the national plan not counted) than a chart gives a row, a bar or a cell each."""
    return int((~names.is_reference).sum() if "is_reference" in names else len(names)) > MANY_CITIES


def _finish(ax, title_zh: str, title_en: str) -> None:
    ax.set_title(f"{title_zh}\n{title_en}", loc="left", fontsize=12)


REFERENCE_COLOUR = "#7f7f7f"


def _reference_rule(ax, names: pd.DataFrame, axis: str) -> None:
    """A line between the reference documents (drawn first) and the cities."""
    n = int(names.is_reference.sum()) if "is_reference" in names else 0
    if n and n < len(names):
        (ax.axvline if axis == "x" else ax.axhline)(n - 0.5 if axis == "y" else n, color="#555555", lw=1.5)


# ---- charts (each returns the figure; notebooks pass it to save())


def coverage_heatmap(targets: pd.DataFrame, names: pd.DataFrame, docs: pd.DataFrame | None = None):
    """Which city sets which catalogue metric, with the values it sets (many cities: the matrix
    without values, see :func:`coverage_matrix`)."""
    from matplotlib.colors import ListedColormap

    from .metrics import catalogue

    if _many(names):
        return coverage_matrix(targets, names, docs)
    metrics = [m for m in catalogue() if m.id in set(targets.metric)]
    cities = list(names.index)
    present = np.zeros((len(metrics), len(cities)))
    annot = np.full(present.shape, "", dtype=object)
    for i, m in enumerate(metrics):
        for j, c in enumerate(cities):
            rows = targets[(targets.metric == m.id) & (targets.city == c)]
            if len(rows):
                present[i, j] = 1
                values = [short_value(r) for r in rows.itertuples()]
                annot[i, j] = ", ".join(values) if len(values) <= 3 else f"{len(values)} targets"
    fig, ax = plt.subplots(figsize=(2.0 * len(cities) + 5, 0.5 * len(metrics) + 1.8))
    sns.heatmap(
        present,
        annot=annot,
        fmt="",
        cmap=ListedColormap(["#f2f2f2", "#a6cee3"]),
        cbar=False,
        linewidths=1,
        linecolor="white",
        annot_kws={"fontsize": 8},
        ax=ax,
        vmin=0,
        vmax=1,
    )
    ax.set_yticks(np.arange(len(metrics)) + 0.5, [f"{m.zh}  {m.en}" for m in metrics], rotation=0, fontsize=8)
    ax.set_xticks(
        np.arange(len(cities)) + 0.5,
        [f"{names.loc[c, 'city_zh']}\n{names.loc[c, 'city_en']}" for c in cities],
        rotation=0,
        fontsize=9,
    )
    ax.xaxis.tick_top()
    ax.set_xlabel("")
    _reference_rule(ax, names, "x")
    _finish(
        ax,
        "谁设定了哪些目标（单元格内为目标值；左栏为国家方案，作参照）",
        "Who sets which target (cells show the values set; ≥ at least, ≈ about; left of the line: the national plan, "
        "for reference)",
    )
    return fig


def _provinces(names: pd.DataFrame, docs: pd.DataFrame | None) -> pd.Series:
    """city → its province ("" when unknown)."""
    if docs is None or "province" not in docs:
        return pd.Series("", index=names.index)
    return docs.drop_duplicates("city").set_index("city").province.reindex(names.index).fillna("")


def coverage_matrix(targets: pd.DataFrame, names: pd.DataFrame, docs: pd.DataFrame | None = None, top: int = 40):
    """Many cities: one row per catalogue metric (the `top` most often set, most set first, with the
    number of cities), one thin column per city grouped by province and, within one, by how many
    metrics it sets; the national plan's metrics marked on the left."""
    from matplotlib.colors import ListedColormap

    from .metrics import by_id

    catalogue = by_id()
    cities = [c for c in names.index if not _is_reference(names, c)]
    local = targets[targets.city.isin(cities) & targets.metric.isin(catalogue)]
    counts = local.groupby("metric").city.nunique().sort_values(ascending=False, kind="stable")
    metrics = list(counts.index[:top])
    present = local.drop_duplicates(["metric", "city"]).assign(v=1).pivot(index="metric", columns="city", values="v")
    present = present.reindex(index=metrics, columns=cities).fillna(0)
    province = _provinces(names, docs)
    order = sorted(cities, key=lambda c: (province[c], -present[c].sum(), c))
    present = present[order]
    reference = [c for c in names.index if _is_reference(names, c)]
    ref_set = set(targets[targets.city.isin(reference)].metric)
    fig, ax = plt.subplots(figsize=(14, 0.28 * len(metrics) + 2.6))
    ax.imshow(present.values, aspect="auto", interpolation="nearest", cmap=ListedColormap(["#f2f2f2", "#1f78b4"]))
    labels = [f"{'◆ ' if m in ref_set else ''}{catalogue[m].zh}  {catalogue[m].en}  ({counts[m]})" for m in metrics]
    ax.set_yticks(range(len(metrics)), labels, fontsize=7)
    groups = pd.Series(range(len(order)), index=[province[c] for c in order]).groupby(level=0, sort=False)
    bounds = groups.min().tolist()[1:]
    for b in bounds:
        ax.axvline(b - 0.5, color="white", lw=1.5)
    if len(bounds) < 40:
        centres = groups.mean()
        ax.set_xticks(centres.values, centres.index, rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
    ax.set_xlabel(f"{len(cities)} 个城市，按省份分组 cities, grouped by province")
    omitted = len(counts) - len(metrics)
    _finish(
        ax,
        f"哪些城市设定了哪些目标（前 {len(metrics)} 个最常见的目录指标，括号内为城市数；◆ 国家方案也设定）",
        f"Who sets which target: the {len(metrics)} catalogue metrics most cities set (number of cities in brackets; "
        f"◆ the national plan sets it too){f'; {omitted} rarer metrics left out' if omitted else ''}",
    )
    return fig


def deadline_timeline(targets: pd.DataFrame, names: pd.DataFrame):
    """How many targets each city sets for each deadline year, and how many have none (many cities:
    see :func:`deadline_distribution`)."""
    years = sorted(int(y) for y in targets.year.dropna().unique())
    columns = [str(y) for y in years] + ["—"]
    cities = list(names.index)
    if _many(names):
        return deadline_distribution(targets, names, columns)
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 4, 0.7 * len(cities) + 1.8))
    for i, c in enumerate(cities):
        rows = targets[targets.city == c]
        for j, col in enumerate(columns):
            n = int(rows.year.isna().sum()) if col == "—" else int((rows.year == int(col)).sum())
            if n:
                colour = "#bbbbbb" if col == "—" else REFERENCE_COLOUR if _is_reference(names, c) else "#1f78b4"
                ax.scatter(j, i, s=60 + 30 * n, color=colour, zorder=3)
                ax.annotate(str(n), (j, i), ha="center", va="center", fontsize=8, color="white", zorder=4)
    ax.set_xticks(range(len(columns)), columns[:-1] + ["无期限\nno deadline"])
    ax.set_yticks(range(len(cities)), [f"{names.loc[c, 'city_zh']} {names.loc[c, 'city_en']}" for c in cities])
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(len(cities) - 0.5, -0.5)
    ax.set_xlabel("目标期限（年） Deadline year")
    _reference_rule(ax, names, "y")
    _finish(
        ax,
        "各城市目标的完成期限（圆内为目标数；灰色为国家方案，作参照）",
        "When each city's targets fall due (number of targets in each circle; grey: the national plan, for reference)",
    )
    return fig


def deadline_distribution(targets: pd.DataFrame, names: pd.DataFrame, columns: list[str]):
    """Many cities: for each deadline year, how many cities' targets fall due (bars: targets; the
    line: cities with at least one), the national plan's beside them."""
    cities = [c for c in names.index if not _is_reference(names, c)]
    local = targets[targets.city.isin(cities)]
    ref = targets[~targets.city.isin(cities) & targets.city.isin(names.index)]

    def per_year(rows: pd.DataFrame, what: str) -> list[int]:
        out = []
        for col in columns:
            hit = rows[rows.year.isna()] if col == "—" else rows[rows.year == int(col)]
            out.append(int(hit.city.nunique()) if what == "cities" else len(hit))
        return out

    x = np.arange(len(columns))
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(columns) + 3), 4.8))
    ax.bar(x - 0.2, per_year(local, "targets"), width=0.4, color="#1f78b4", label="城市的目标 cities' targets")
    ax.bar(
        x + 0.2, per_year(ref, "targets"), width=0.4, color=REFERENCE_COLOUR, label="国家方案的目标 the national plan's"
    )
    ax2 = ax.twinx()
    ax2.plot(
        x, per_year(local, "cities"), color="#e6550d", marker="o", label="有目标到期的城市数 cities with a target due"
    )
    ax2.set_ylim(0, len(cities) * 1.05)
    ax2.set_ylabel(f"城市数 cities (of {len(cities)})")
    ax2.grid(False)
    ax.set_xticks(x, columns[:-1] + ["无期限\nno deadline"])
    ax.set_ylabel("目标数 targets")
    ax.set_xlabel("目标期限（年） Deadline year")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
    _finish(
        ax,
        f"{len(cities)} 个城市的目标何时到期（灰色为国家方案，作参照）",
        f"When the {len(cities)} cities' targets fall due (grey: the national plan, for reference)",
    )
    return fig


def _is_reference(names: pd.DataFrame, city: str) -> bool:
    return bool(names.loc[city, "is_reference"]) if "is_reference" in names else False


def targets_per_city(targets: pd.DataFrame, names: pd.DataFrame):
    """One bar per city (many cities: the sorted distribution, :func:`targets_distribution`)."""
    cities = list(names.index)
    if _many(names):
        return targets_distribution(targets, names)
    mapped = [int(((targets.city == c) & ~targets.metric.str.startswith("label:")).sum()) for c in cities]
    other = [int(((targets.city == c) & targets.metric.str.startswith("label:")).sum()) for c in cities]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(cities) + 1.6))
    y = np.arange(len(cities))
    ref = [_is_reference(names, c) for c in cities]
    ax.barh(
        y,
        mapped,
        color=["#bdbdbd" if r else "#1f78b4" for r in ref],
        label="目录指标 catalogue metric (comparable across cities)",
    )
    ax.barh(
        y,
        other,
        left=mapped,
        color=["#e0e0e0" if r else "#a6cee3" for r in ref],
        label="其他目标 other targets (this city's own)",
    )
    _reference_rule(ax, names, "y")
    for i in range(len(cities)):
        ax.annotate(
            f"{mapped[i] + other[i]}",
            (mapped[i] + other[i], i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(y, [f"{names.loc[c, 'city_zh']} {names.loc[c, 'city_en']}" for c in cities])
    ax.invert_yaxis()
    ax.set_xlabel("目标数 Number of targets")
    ax.legend(loc="lower right", fontsize=8)
    _finish(ax, "各城市的量化目标数", "Quantitative targets per city")
    return fig


def targets_distribution(targets: pd.DataFrame, names: pd.DataFrame, named: int = 5):
    """Many cities: every city's number of targets, sorted (catalogue metrics dark, its own light),
    the median and the national plan's as lines, the `named` most and fewest named."""
    cities = [c for c in names.index if not _is_reference(names, c)]
    local = targets[targets.city.isin(cities)]
    own = local.metric.str.startswith("label:")
    table = pd.DataFrame(
        {
            "mapped": local[~own].groupby("city").size().reindex(cities, fill_value=0),
            "other": local[own].groupby("city").size().reindex(cities, fill_value=0),
        }
    )
    table["total"] = table.mapped + table.other
    table = table.sort_values(["total", "mapped"], ascending=False, kind="stable")
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(12, 4.8))
    ax.bar(x, table.mapped, width=1.0, color="#1f78b4", label="目录指标 catalogue metric (comparable across cities)")
    ax.bar(
        x, table.other, bottom=table.mapped, width=1.0, color="#a6cee3", label="其他目标 other targets (the city's own)"
    )
    median = float(table.total.median())
    ax.axhline(median, color="#333333", lw=1, ls="--", label=f"中位数 median {median:g}")
    reference = [c for c in names.index if _is_reference(names, c)]
    if reference:
        n_ref = int(targets.city.isin(reference).sum())
        ax.axhline(n_ref, color=REFERENCE_COLOUR, lw=1.5, label=f"国家方案 the national plan {n_ref}")
    for i in [*range(min(named, len(table))), *range(max(named, len(table) - named), len(table))]:
        c = table.index[i]
        ax.annotate(
            f"{names.loc[c, 'city_zh']} {table.total.iloc[i]}",
            (i, table.total.iloc[i]),
            xytext=(0, 3),
            textcoords="offset points",
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xlim(-0.5, len(table) - 0.5)
    ax.set_ylim(0, table.total.max() * 1.35 + 1)
    ax.set_xticks([])
    ax.set_xlabel(f"{len(table)} 个城市，按目标数排序 cities, most targets first")
    ax.set_ylabel("目标数 Number of targets")
    ax.legend(loc="upper right", fontsize=8)
    _finish(ax, "各城市的量化目标数（排序）", "Quantitative targets per city, sorted")
    return fig


def _province_colours(provinces: list[str]) -> tuple[list, dict]:
    """A colour per document from its province (the same province, the same colour; 20 colours, reused
    beyond), and the province → colour legend."""
    named = sorted(set(provinces) - {""})
    size = 10 if len(named) <= 10 else 20  # distinct hues while they suffice
    palette = sns.color_palette(f"tab{size}", size)
    legend = {p: palette[i % size] for i, p in enumerate(named)}
    legend[""] = REFERENCE_COLOUR  # no province: the national plan
    return [legend[p] for p in provinces], legend


def similarity_matrix(docsim: pd.DataFrame) -> pd.DataFrame:
    """document_similarity as a documents × documents matrix. Past 501 documents the table keeps
    each document's 500 most similar others: a pair kept for one of its documents only has the
    same score both ways, and a pair kept for neither counts as 0 (less alike than either
    document's 500th)."""
    m = docsim.pivot(index="doc_a", columns="doc_b", values="score")
    if m.isna().to_numpy().any():
        m = m.combine_first(m.T).fillna(0.0)
    return m


def similarity_clustermap(docsim: pd.DataFrame, docs: pd.DataFrame):
    """Document × document similarity with the dendrogram of an average-linkage clustering."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    m = similarity_matrix(docsim)
    provinces = docs.set_index("doc_id").province.reindex(m.index).fillna("").tolist()
    labels = [document_label(docs, d) for d in m.index]
    m.index, m.columns = labels, labels
    dist = squareform(np.clip(1 - m.values, 0, None), checks=False)
    link = linkage(dist, method="average")
    n = len(labels)
    few = n <= 12  # values in the cells while they fit; beyond, colour only, and names while they fit
    side = 1.3 * n + 4 if few else 14
    colours = None if few else _province_colours(provinces)[0]
    grid = sns.clustermap(
        m,
        row_linkage=link,
        col_linkage=link,
        annot=few,
        fmt=".2f",
        cmap="Blues",
        vmin=0,
        vmax=1,
        figsize=(side, side - 1),
        cbar_kws={"label": "余弦相似度 cosine similarity"},
        dendrogram_ratio=0.15,
        xticklabels=n <= 120,
        yticklabels=n <= 120,
        row_colors=colours,
    )
    if not few:
        grid.ax_heatmap.tick_params(labelsize=max(3, min(8, 600 / n)))
    grid.ax_heatmap.set_xlabel("")
    grid.ax_heatmap.set_ylabel("")
    grid.fig.suptitle(
        "文件之间的文本相似度（TF-IDF 余弦），树状图为平均连接聚类\n"
        "How similar the documents are (TF-IDF cosine); the tree is an average-linkage clustering",
        x=0.02,
        ha="left",
        fontsize=11,
        y=1.04,
    )
    return grid.fig


def similarity_coordinates(docsim: pd.DataFrame) -> pd.DataFrame:
    """A 2-D map of the documents whose distances follow their dissimilarity (1 − cosine): metric
    multidimensional scaling (scikit-learn's SMACOF) started from the classical (Torgerson) solution,
    so it is deterministic; each axis's sign fixed so that its largest coordinate is positive.
    doc_id → x, y; ``attrs["stress"]``: Kruskal's stress-1 of the map (0: every distance kept)."""
    from sklearn.manifold import MDS

    m = similarity_matrix(docsim)
    d = np.clip(1 - m.values, 0, None)
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0)
    if len(d) < 3:
        coords = np.column_stack([np.array([0.0, d[0, 1]])[: len(d)], np.zeros(len(d))])
    else:
        mds = MDS(
            n_components=2,
            metric_mds=True,
            metric="precomputed",
            init="classical_mds",
            n_init=1,
            max_iter=300,
            eps=1e-6,
            normalized_stress=False,
        )
        coords = mds.fit_transform(d)
    for k in range(coords.shape[1]):
        if coords[np.argmax(np.abs(coords[:, k])), k] < 0:
            coords[:, k] *= -1
    xy = pd.DataFrame(coords, index=m.index, columns=["x", "y"])
    iu = np.triu_indices(len(d), 1)
    mapped = np.linalg.norm(coords[:, None] - coords[None, :], axis=2)[iu]
    total = float((d[iu] ** 2).sum())
    xy.attrs["stress"] = float(np.sqrt(((d[iu] - mapped) ** 2).sum() / total)) if total else 0.0
    return xy


def similarity_map(docsim: pd.DataFrame, docs: pd.DataFrame, spacing: float = 0.045):
    """The documents as points, close when their texts are alike (:func:`similarity_coordinates`),
    coloured by province; a document is named where its name does not crowd one already placed."""
    xy = similarity_coordinates(docsim)
    meta = docs.set_index("doc_id").reindex(xy.index)
    reference = meta.admin_level.isin(REFERENCE_LEVELS)
    colours, legend = _province_colours(meta.province.fillna("").tolist())
    fig, ax = plt.subplots(figsize=(11, 8.5))
    local = ~reference.values
    ax.scatter(xy.x[local], xy.y[local], c=[c for c, keep in zip(colours, local, strict=True) if keep], s=28, zorder=3)
    ax.scatter(xy.x[~local], xy.y[~local], marker="*", s=220, color="black", zorder=4)
    span = np.array([np.ptp(xy.x) or 1.0, np.ptp(xy.y) or 1.0])
    placed: list[np.ndarray] = []
    order = [*xy.index[~local], *xy.index[local]]  # the reference named first
    for doc_id in order:
        here = xy.loc[doc_id].values / span
        if all(np.abs(here - p)[0] > 2.5 * spacing or np.abs(here - p)[1] > spacing for p in placed):
            placed.append(here)
            ax.annotate(
                document_label(docs, doc_id),
                xy.loc[doc_id].values,
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=7,
                zorder=5,
            )
    if 1 < len(legend) <= 20:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", ls="", color=c, label=p or "—") for p, c in legend.items() if p]
        ax.legend(handles=handles, title="省份 province", fontsize=7, title_fontsize=8, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.15)
    stress = xy.attrs["stress"]
    ax.set_xlabel(
        f"{len(xy)} 份文件；距离近 = 文本相似（多维尺度分析，应力 {stress:.2f}）\n"
        f"{len(xy)} documents; near = alike (metric MDS of 1 − cosine; Kruskal's stress {stress:.2f}"
        + ("; above 0.2 many distances are bent: read the groups, not the distances)" if stress > 0.2 else ")")
    )
    named = len(placed)
    _finish(
        ax,
        "文件地图：文本越相似，距离越近（颜色为省份，★ 为国家方案）",
        f"A map of the documents: the more alike, the closer (colour: province; ★ the national plan; "
        f"{named} of {len(xy)} named where space allows)",
    )
    return fig


def metric_chart(rows: pd.DataFrame, docs: pd.DataFrame, metric_zh: str, metric_en: str, unit: str):
    """One metric across cities, drawn faithfully: ≥ as an arrow to the right, ranges as intervals,
    ≈ as a hollow diamond; each value labelled as printed, with its deadline. The national plan's
    value (a reference document's) is a dashed vertical line, labelled, not a row."""
    reference = rows.doc_id.isin(docs.doc_id[docs.admin_level.isin(REFERENCE_LEVELS)])
    refs, rows = rows[reference], rows[~reference].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.75 * max(len(rows), 1) + 2.4))
    hi = float(np.nanmax(np.r_[rows.value.to_numpy(float), rows.value_max.to_numpy(float), refs.value.to_numpy(float)]))
    span = hi * 1.35 if hi > 0 else 1
    for i, r in rows.iterrows():
        comparator = lexicon().comparators[r.comparator]
        marker, filled = comparator.marker, comparator.filled
        color = sns.color_palette(PALETTE)[0]
        if pd.notna(r.value_max):
            ax.plot([r.value, r.value_max], [i, i], color=color, lw=3, solid_capstyle="butt")
            ax.plot([r.value, r.value_max], [i, i], "|", color=color, ms=14, mew=2)
        else:
            ax.plot(r.value, i, marker, ms=9, mfc=color if filled else "white", mec=color, mew=2)
            if r.comparator in (">=", ">", "<=", "<"):
                direction = 1 if r.comparator.startswith(">") else -1
                ax.annotate(
                    "",
                    xy=(r.value + direction * span * 0.12, i),
                    xytext=(r.value, i),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 2},
                )
        due = f"{int(r.year)}年 by {int(r.year)}" if pd.notna(r.year) else "无期限 no deadline"
        ax.annotate(
            f"{short_value(r)}（{r.value_text}）　{due}",
            (r.value_max if pd.notna(r.value_max) else r.value, i),
            xytext=(14, 8),
            textcoords="offset points",
            fontsize=8,
            color="#333333",
        )
    ax.set_yticks(
        range(len(rows)),
        [f"{document_label(docs, r.doc_id)}\n{r.section_id.split('/', 1)[1]}" for r in rows.itertuples()],
        fontsize=8,
    )
    ax.set_ylim(len(rows) - 0.4, -0.7)
    ax.set_xlim(0, span * 1.15)
    for r in refs.itertuples():
        due = f"{int(r.year)}年 by {int(r.year)}" if pd.notna(r.year) else "无期限 no deadline"
        ax.axvline(r.value, color="#e31a1c", ls="--", lw=1.2, zorder=1)
        ax.annotate(
            f"{REFERENCE_ZH} {REFERENCE_EN}: {short_value(r)}　{due}",
            (r.value, -0.7),
            xytext=(4, -10),
            textcoords="offset points",
            fontsize=8,
            color="#e31a1c",
            va="top",
        )
    unit_ = lexicon().units[unit]
    ax.set_xlabel(f"{unit_.axis_zh} {unit_.axis_en}")
    _finish(ax, metric_zh, f"{metric_en} — ● exactly, ●→ at least, ○→ more than, ◇ about, ├┤ range")
    return fig


def theme_deadline_chart(targets: pd.DataFrame):
    """A city's targets by theme, split by deadline year."""
    from .metrics import OTHER_THEME, themes

    ordered = [t for t in (*themes(), OTHER_THEME) if t.id in set(targets.theme)]
    years = [str(int(y)) for y in sorted(targets.year.dropna().unique())] + ["—"]
    colors = dict(zip(years, sns.color_palette("Blues_r", len(years) - 1) + [(0.75, 0.75, 0.75)], strict=True))
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(ordered) + 2))
    left = np.zeros(len(ordered))
    for y in years:
        counts = np.array(
            [
                ((targets.theme == t.id) & ((targets.year.isna()) if y == "—" else (targets.year == int(y)))).sum()
                for t in ordered
            ],
            dtype=float,
        )
        ax.barh(
            range(len(ordered)),
            counts,
            left=left,
            color=colors[y],
            label="无期限 no deadline" if y == "—" else f"{y}年 by {y}",
        )
        left += counts
    ax.set_yticks(range(len(ordered)), [f"{t.zh} {t.en}" for t in ordered])
    ax.invert_yaxis()
    ax.set_xlabel("目标数 Number of targets")
    ax.legend(fontsize=8, loc="lower right")
    _finish(ax, "按主题和期限划分的目标", "Targets by theme and deadline")
    return fig


def department_load_chart(load: pd.DataFrame):
    """Tasks per department: `load` has department_zh, department_en, lead, support."""
    load = load.sort_values(["lead", "support", "department_zh"], ascending=[False, False, True]).head(20)
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(load) + 2))
    y = np.arange(len(load))
    ax.barh(y, load.lead, color="#1f78b4", label="责任单位 responsible")
    ax.barh(y, load.support, left=load.lead, color="#a6cee3", label="配合单位 supporting")
    ax.set_yticks(y, [f"{r.department_zh}  {r.department_en}" for r in load.itertuples()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("任务数 Number of tasks")
    ax.legend(fontsize=8, loc="lower right")
    _finish(ax, "各部门承担的任务", "Tasks each department carries")
    return fig


def keyness_chart(keyness: pd.DataFrame, top: int = 15):
    k = keyness.sort_values("rank").head(top)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(k) + 2))
    ax.barh(range(len(k)), k.g2, color="#33a02c")
    for i, r in enumerate(k.itertuples()):
        ax.annotate(
            f"{r.count} vs {r.count_rest}",
            (r.g2, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(k)), k.term)
    ax.invert_yaxis()
    ax.set_xlabel("对数似然 G² log-likelihood (uses here vs in all other cities)")
    _finish(ax, "本市比其他城市更常用的词", "Words this city uses more than the others")
    return fig


def pair_heatmap(matrix: pd.DataFrame, label_a: str, label_b: str):
    """Section × section similarity of two documents, in document order (NaN: a pair not scored in
    the table, drawn blank)."""
    n, m = matrix.shape
    fig, ax = plt.subplots(figsize=(min(4 + 0.16 * m, 16), min(3 + 0.16 * n, 16)))
    if not (n and m):
        ax.text(0.5, 0.5, "两市没有相似的章节 No similar sections", ha="center", va="center", transform=ax.transAxes)
        _finish(ax, "逐节文本相似度（按文件顺序）", "Section-by-section similarity, in document order")
        return fig
    top = float(np.nanmax(matrix.values))
    sns.heatmap(
        matrix.values,
        cmap="Blues",
        vmin=0,
        vmax=max(0.5, top),
        ax=ax,
        rasterized=True,
        cbar_kws={"label": "余弦相似度 cosine similarity"},
    )
    ax.grid(False)  # blank cells are pairs not in the table: no grid lines through them
    ax.set_yticks(np.arange(n) + 0.5, [s.split("/", 1)[1] for s in matrix.index], fontsize=5, rotation=0)
    ax.set_xticks(np.arange(m) + 0.5, [s.split("/", 1)[1] for s in matrix.columns], fontsize=5, rotation=90)
    ax.set_ylabel(label_a)
    ax.set_xlabel(label_b)
    _finish(
        ax,
        "逐节文本相似度（按文件顺序；空白：不在彼此最相近的五节之内）",
        "Section-by-section similarity, in document order (blank: not among either's five closest)",
    )
    return fig


REPORT_GOALS = {100: 600, 300: 1800}  # cities → seconds (issue 15: 10 and 30 minutes)
BUILD_GOALS = {1_000: 90, 10_000: 900}  # documents → seconds of the whole build (issue 16: 15 minutes at 10,000)


def scaling_series(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of benchmarks/results.csv measured at several corpus sizes (the stages and the
    whole pipeline), typed."""
    from .docs import series_stages  # the rule the results table's columns follow

    stages = series_stages(results.to_dict("records"))
    rows = results[(results.n_chars.astype(str) != "") & results.stage.isin(stages)]
    return rows.astype({"n_docs": int, "seconds": float, "peak_mb": float})


def scaling_chart(results: pd.DataFrame):
    """Wall time and peak memory per stage against corpus size (log–log), from benchmarks/results.csv."""
    runs = scaling_series(results)
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.8))
    for stage, rows in runs.groupby("stage", sort=False):
        rows = rows.sort_values("n_docs")
        whole = stage == WHOLE_PIPELINE
        style = {"linewidth": 2.5, "color": "black"} if whole else {"linewidth": 1.2}
        label = f"{rows.stage_zh.iloc[0]} {stage}"
        ax_t.plot(rows.n_docs, rows.seconds, marker="o", label=label, **style)
        if whole:
            ax_m.plot(rows.n_docs, rows.peak_mb / 1024, marker="o", label=label, **style)
    sizes = sorted(runs.n_docs.unique())
    if sizes:  # a line of slope 1 through the whole pipeline's smallest run: what linear growth looks like
        first = runs[(runs.stage == WHOLE_PIPELINE) & (runs.n_docs == sizes[0])].seconds
        if len(first):
            ax_t.plot(
                sizes,
                [first.iloc[0] * n / sizes[0] for n in sizes],
                linestyle=":",
                color="grey",
                label="线性增长 linear growth",
            )
    for n, goal in BUILD_GOALS.items():
        ax_t.scatter([n], [goal], marker="_", s=300, color="#e31a1c", zorder=4)
        ax_t.annotate(
            f"目标 goal {goal} s" if goal < 120 else f"目标 goal {goal // 60} min",
            (n, goal),
            xytext=(8, -12),
            textcoords="offset points",
            fontsize=8,
            color="#e31a1c",
            ha="right",
        )
    ax_m.axhline(4, color="#e31a1c", linestyle="--", linewidth=1)
    ax_m.annotate(
        "目标 goal: 4 GB",
        (sizes[0] if sizes else 1, 4),
        xytext=(2, 3),
        textcoords="offset points",
        fontsize=8,
        color="#e31a1c",
    )
    for ax in (ax_t, ax_m):
        ax.set_xscale("log")
        ax.set_xlabel("文件数 Documents in the corpus")
        ax.grid(True, which="both", linewidth=0.3)
    ax_t.set_yscale("log")
    ax_t.set_ylabel("耗时（秒） Wall time (s)")
    ax_m.set_ylabel("内存峰值（GB） Peak memory (GB)")
    ax_t.legend(fontsize=7, loc="lower right")
    _finish(ax_t, "各阶段耗时", "Time per stage")
    _finish(ax_m, "完整流程的内存峰值", "Peak memory, whole pipeline")
    fig.tight_layout()
    return fig


def report_scaling_chart(results: pd.DataFrame):
    """The report against the number of cities: pages, and seconds to run and render them all."""
    rows = results[results.stage == REPORT_PAGES].astype({"n_docs": int, "seconds": float, "n_pages": int})
    rows = rows.sort_values("n_docs")
    fig, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax_p.plot(rows.n_docs, rows.n_pages, marker="o", color="black", label="页面 pages")
    ax_p.plot(
        rows.n_docs,
        [n * (n - 1) / 2 for n in rows.n_docs],
        ls=":",
        color="grey",
        label="每对城市一页 a page per pair of cities",
    )
    for n, pages in zip(rows.n_docs, rows.n_pages, strict=True):
        ax_p.annotate(f"{pages:,}", (n, pages), xytext=(4, -10), textcoords="offset points", fontsize=8)
    ax_t.plot(rows.n_docs, rows.seconds / 60, marker="o", color="black", label="全部页面 every page")
    for n, seconds in zip(rows.n_docs, rows.seconds, strict=True):
        ax_t.annotate(_duration(seconds), (n, seconds / 60), xytext=(4, -10), textcoords="offset points", fontsize=8)
    for n, goal in REPORT_GOALS.items():
        ax_t.scatter([n], [goal / 60], marker="_", s=300, color="#e31a1c", zorder=4)
        ax_t.annotate(
            f"目标 goal {goal // 60} min",
            (n, goal / 60),
            xytext=(-4, 4),
            textcoords="offset points",
            fontsize=8,
            color="#e31a1c",
            ha="right",
        )
    for ax in (ax_p, ax_t):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("城市数 Cities in the corpus")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=8, loc="upper left")
    ax_p.set_ylabel("页面数 Pages")
    ax_t.set_ylabel("耗时（分钟） Minutes, 2 kernels")
    _finish(ax_p, "报告页面数", "Pages in the report")
    _finish(ax_t, "运行并渲染全部页面的耗时", "Time to run and render every page")
    fig.tight_layout()
    return fig


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


# ---- lineage


def _label_of(docs: pd.DataFrame):
    return lambda doc_id: document_label(docs, doc_id)


def lineage_profile(lineage: pd.DataFrame, docs: pd.DataFrame, title: bool = True):
    """Each document's characters by lineage label, as shares: copied, adapted, shared with a sibling, own."""
    chars = lineage.assign(n=lineage.text.str.count(r"[\u3400-\u9fff]"))
    shares = chars.pivot_table(index="doc_id", columns="label", values="n", aggfunc="sum", fill_value=0)
    shares = shares.reindex(columns=list(LINEAGE_COLOURS), fill_value=0)
    shares = shares.div(shares.sum(axis=1), axis=0).sort_values(["copied", "adapted"], ascending=False)
    if len(shares) > MANY_CITIES:
        shares = shares.assign(_taken=shares.copied + shares.adapted + shares.sibling)
        shares = shares.sort_values(["_taken", "copied"], ascending=False, kind="stable").drop(columns="_taken")
        fig, ax = _stacked_columns(shares, LINEAGE_COLOURS, LINEAGE_NAMES, docs, percent=True)
        ax.set_ylabel("汉字占比 Share of the document's Chinese characters")
        ax.set_xlabel(f"{len(shares)} 份文件，按继承与共有的比例排序 documents, most taken or shared first")
        _finish(
            ax,
            "各文件对上位文件的继承与改写（排序）",
            "What each document copied, adapted, shares with a sibling, or wrote itself, sorted",
        )
        return fig
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(shares) + 1.9))
    left = np.zeros(len(shares))
    for label, colour in LINEAGE_COLOURS.items():
        zh, en = LINEAGE_NAMES[label]
        ax.barh(range(len(shares)), shares[label], left=left, color=colour, label=f"{zh} {en}")
        for i, v in enumerate(shares[label]):
            if v >= 0.05:
                ax.annotate(
                    f"{v:.0%}",
                    (left[i] + v / 2, i),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if label == "copied" else "#222222",
                )
        left += shares[label].to_numpy()
    ax.set_yticks(range(len(shares)), [_label_of(docs)(d) for d in shares.index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("汉字占比 Share of the document's Chinese characters")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    if title:
        _finish(
            ax,
            "各文件对上位文件的继承与改写",
            "What each document copied, adapted, shares with a sibling, or wrote itself",
        )
    return fig


def _stacked_columns(
    frame: pd.DataFrame, colours: dict, names: dict, docs: pd.DataFrame, percent: bool = False, named: int = 5
):
    """Many documents: one thin stacked column per document (rows of `frame`, in its order), the
    first and last `named` named."""
    fig, ax = plt.subplots(figsize=(12, 5.2))
    x = np.arange(len(frame))
    bottom = np.zeros(len(frame))
    for key, colour in colours.items():
        label = " ".join(names[key]) if isinstance(names[key], tuple) else names[key]
        ax.bar(x, frame[key], bottom=bottom, width=1.0, color=colour, label=label)
        bottom += frame[key].to_numpy()
    top = bottom.max() if len(bottom) else 1
    for i in [*range(min(named, len(frame))), *range(max(named, len(frame) - named), len(frame))]:
        ax.annotate(
            _label_of(docs)(frame.index[i]),
            (i, bottom[i]),
            xytext=(0, 3),
            textcoords="offset points",
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xlim(-0.5, len(frame) - 0.5)
    ax.set_ylim(0, top * 1.45 if top else 1)
    ax.set_xticks([])
    if percent:
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="upper right", fontsize=8, ncol=2)
    return fig, ax


RELATION_COLOURS = {
    "same": "#1f78b4",
    "raised": "#33a02c",
    "lowered": "#e31a1c",
    "rescaled": "#b2b2b2",
    "new": "#a6cee3",
    "dropped": "#fdbf6f",
}
RELATION_NAMES = {
    "same": ("保持", "kept"),
    "raised": ("提高", "raised"),
    "lowered": ("降低", "lowered"),
    "rescaled": ("按本地规模", "rescaled (not compared)"),
    "new": ("新增", "new"),
    "dropped": ("未采纳", "dropped"),
}


def target_relations_chart(target_lineage: pd.DataFrame, docs: pd.DataFrame):
    """Per document: its targets kept, raised, lowered, rescaled or new against its parent's, and the
    parent's targets it dropped."""
    counts = target_lineage.groupby(["doc_id", "relation"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=list(RELATION_COLOURS), fill_value=0)
    if len(counts) > MANY_CITIES:
        order = counts[["same", "raised", "lowered"]].sum(axis=1).sort_values(ascending=False, kind="stable").index
        fig, ax = _stacked_columns(counts.loc[order], RELATION_COLOURS, RELATION_NAMES, docs)
        ax.set_ylabel("目标数 Number of targets")
        ax.set_xlabel(f"{len(counts)} 份文件，按与上位文件可比的目标数排序 documents, most targets compared first")
        _finish(
            ax,
            "对上位文件目标的保持、提高、降低与新增（排序）",
            "Targets against the parent's: kept, raised, lowered, new, dropped — sorted",
        )
        return fig
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(counts) + 1.9))
    left = np.zeros(len(counts))
    for rel, colour in RELATION_COLOURS.items():
        zh, en = RELATION_NAMES[rel]
        ax.barh(range(len(counts)), counts[rel], left=left, color=colour, label=f"{zh} {en}")
        for i, v in enumerate(counts[rel]):
            if v:
                ax.annotate(str(int(v)), (left[i] + v / 2, i), ha="center", va="center", fontsize=8)
        left += counts[rel].to_numpy()
    ax.set_yticks(range(len(counts)), [_label_of(docs)(d) for d in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel("目标数 Number of targets (the document's, and the parent's it dropped)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    _finish(
        ax,
        "对上位文件目标的保持、提高、降低与新增",
        "Targets against the parent's: kept, raised, lowered, new, dropped",
    )
    return fig


# ---- policy instruments

TYPE_COLOURS = {"supply": "#4C72B0", "environment": "#55A868", "demand": "#C44E52", "none": "#c7c7c7"}


def doc_order(docs: pd.DataFrame, doc_ids) -> list[str]:
    """Reference documents first, then the cities in the documents table's order."""
    ref = docs.set_index("doc_id").admin_level.isin(REFERENCE_LEVELS)
    wanted = set(doc_ids)
    return sorted((d for d in docs.doc_id if d in wanted), key=lambda d: not ref.get(d, False))


def instrument_mix(codes: pd.DataFrame, docs: pd.DataFrame, book, source: tuple[str, str], by_type: bool = True):
    """Each document's coded units by type (supply / environment / demand) or by code, as shares,
    with the number of units on the right; `none` is left out of the shares. `source` (zh, en) says
    whose codes these are, in the title, so the chart carries it wherever it is copied."""
    rows = codes[(codes.framework == book.id) & (codes.code != "none")]
    key = rows.type if by_type and book.types else rows.code
    groups = [t.id for t in book.types] if by_type and book.types else [c.id for c in book.codes]
    names = (
        {t.id: f"{t.zh} {t.en}" for t in book.types}
        if by_type and book.types
        else {c.id: f"{c.zh} {c.en}" for c in book.codes}
    )
    counts = pd.crosstab(rows.doc_id, key).reindex(columns=groups, fill_value=0)
    order = doc_order(docs, counts.index)
    counts = counts.loc[order]
    shares = counts.div(counts.sum(axis=1).where(lambda s: s > 0, 1), axis=0)
    colours = (
        [TYPE_COLOURS.get(g, "#999999") for g in groups]
        if by_type and book.types
        else sns.color_palette(PALETTE, len(groups))
    )
    if len(order) > MANY_CITIES:
        ordered = shares.sort_values(groups, ascending=False, kind="stable")
        fig, ax = _stacked_columns(ordered, dict(zip(groups, colours, strict=True)), names, docs, percent=True)
        ax.set_ylabel("编码单元占比 Share of the coded units")
        ax.set_xlabel(f"{len(order)} 份文件，按第一类工具的比例排序 documents, sorted by the share of the first type")
        _finish(ax, f"{book.zh}（{source[0]}）", f"{book.en} — {source[1]}")
        return fig
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(order) + 2.2))
    left = np.zeros(len(order))
    for g, colour in zip(groups, colours, strict=True):
        ax.barh(range(len(order)), shares[g], left=left, color=colour, label=names[g])
        for i, v in enumerate(shares[g]):
            if v >= 0.06:
                ax.annotate(f"{v:.0%}", (left[i] + v / 2, i), ha="center", va="center", fontsize=8, color="white")
        left += shares[g].to_numpy()
    for i, n in enumerate(counts.sum(axis=1)):
        ax.annotate(f"n={n}", (1.0, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(order)), [document_label(docs, d) for d in order])
    ax.invert_yaxis()
    n_ref = sum(docs.set_index("doc_id").loc[order].admin_level.isin(REFERENCE_LEVELS))
    if n_ref and n_ref < len(order):
        ax.axhline(n_ref - 0.5, color="#555555", lw=1.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("编码单元占比 Share of the coded units (n: units with an instrument)")
    _finish(ax, f"{book.zh}（{source[0]}）", f"{book.en} — {source[1]}")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.02 * (len(groups) > 6)),
        ncol=min(len(groups), 5),
        fontsize=8,
        frameon=False,
    )
    return fig


def _by_type(book) -> list[str]:
    """A codebook's code ids, grouped by type in the codebook's order of types."""
    return [c.id for t in (book.types or [None]) for c in book.codes if t is None or c.type == t.id]


def _type_spans(book, ids: list[str]):
    """(first position, number of codes, type) of each type's run in `ids` (grouped by _by_type)."""
    start = 0
    for t in book.types:
        n = sum(1 for c in ids if book.code(c).type == t.id)
        yield start, n, t
        start += n


def code_heatmap(codes: pd.DataFrame, docs: pd.DataFrame, book, source: tuple[str, str]):
    """Documents × codes (grouped by type): how many units each document codes with each code (the
    number), shaded by the code's share of the document's units, so long and short plans compare."""
    rows = codes[(codes.framework == book.id) & (codes.code != "none")]
    columns = _by_type(book)
    counts = pd.crosstab(rows.doc_id, rows.code).reindex(columns=columns, fill_value=0)
    order = doc_order(docs, counts.index)
    counts = counts.loc[order]
    shares = counts.div(counts.sum(axis=1).where(lambda s: s > 0, 1), axis=0)
    if len(order) > MANY_CITIES:  # codes × documents: a thin column per document, shade only
        fig, ax = plt.subplots(figsize=(14, 0.3 * len(columns) + 2.6))
        ax.imshow(shares.T.values, aspect="auto", interpolation="nearest", cmap="Blues", vmin=0)
        ax.set_yticks(range(len(columns)), [f"{book.code(c).zh} {book.code(c).en}" for c in columns], fontsize=7)
        ax.set_xticks([])
        ax.grid(False)
        for start, _, _ in _type_spans(book, columns):
            if start:
                ax.axhline(start - 0.5, color="#333333", lw=1.5)
        ax.set_xlabel(f"{len(order)} 份文件 documents (the national plan first)")
        _finish(
            ax,
            f"{book.zh}：子工具（{source[0]}；颜色：占本文件编码单元的比例）",
            f"{book.en}: sub-tools — {source[1]} (shade: share of the plan's units)",
        )
        return fig
    fig, ax = plt.subplots(figsize=(0.45 * len(columns) + 4, 0.45 * len(order) + 3.2))
    sns.heatmap(
        shares, annot=counts, fmt="d", cmap="Blues", cbar=False, ax=ax, linewidths=0.5, linecolor="white", vmin=0
    )
    ax.set_yticks(np.arange(len(order)) + 0.5, [document_label(docs, d) for d in order], rotation=0, fontsize=8)
    ax.set_xticks(
        np.arange(len(columns)) + 0.5,
        [f"{book.code(c).zh} {book.code(c).en}" for c in columns],
        rotation=90,
        fontsize=8,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    for start, n, t in _type_spans(book, columns):
        if start:
            ax.axvline(start, color="#333333", lw=1.5)
        ax.annotate(
            f"{t.zh} {t.en}",
            (start + n / 2, 0),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            color=TYPE_COLOURS.get(t.id, "#333333"),
            annotation_clip=False,
        )
    ax.set_title(
        f"{book.zh}：子工具（{source[0]}；颜色：占本文件编码单元的比例）\n"
        f"{book.en}: sub-tools — {source[1]} (number of units; shade: share of the plan's units)",
        loc="left",
        fontsize=11,
        pad=26,
    )
    n_ref = sum(docs.set_index("doc_id").loc[order].admin_level.isin(REFERENCE_LEVELS))
    if n_ref and n_ref < len(order):
        ax.axhline(n_ref, color="#555555", lw=1.5)
    return fig


def cross_heatmap(codes: pd.DataFrame, rows_book, columns_book, source: tuple[str, str]):
    """Units by their code in one codebook (rows) and another (columns): the instrument × actor
    matrix; cells are unit counts, rows grouped by type, column labels on top."""
    a = codes[codes.framework == rows_book.id].set_index("unit_id").code
    b = codes[codes.framework == columns_book.id].set_index("unit_id").code
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
    both = both[(both.a != "none") & (both.b != "none")]
    row_ids = _by_type(rows_book)
    col_ids = [c.id for c in columns_book.codes]
    matrix = pd.crosstab(both.a, both.b).reindex(index=row_ids, columns=col_ids, fill_value=0)
    fig, ax = plt.subplots(figsize=(0.9 * len(col_ids) + 4, 0.38 * len(row_ids) + 2))
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Purples", cbar=False, ax=ax, linewidths=0.5, linecolor="white")
    ax.set_yticks(
        np.arange(len(row_ids)) + 0.5,
        [f"{rows_book.code(c).zh} {rows_book.code(c).en}" for c in row_ids],
        rotation=0,
        fontsize=8,
    )
    ax.xaxis.tick_top()
    ax.set_xticks(
        np.arange(len(col_ids)) + 0.5,
        [f"{columns_book.code(c).zh}\n" + textwrap.fill(columns_book.code(c).en, 16) for c in col_ids],
        fontsize=8,
    )
    ax.set_title(
        f"{rows_book.zh} × {columns_book.zh}（{source[0]}）\n{rows_book.en} × {columns_book.en} — {source[1]}",
        loc="left",
        fontsize=11,
        pad=60,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    for start, _, _ in _type_spans(rows_book, row_ids):
        if start:
            ax.axhline(start, color="#333333", lw=1.5)
    return fig
