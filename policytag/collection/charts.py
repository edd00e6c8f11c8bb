"""PNG charts of a :class:`~policytag.collection.report.Report`: what a reader of many reports looks at first.

Four charts: the label share of sentences per year (one line per label), per province (a province ×
label grid, which stays legible for 31 provinces where grouped bars would not), the top localities
of each label (one small panel per label), and a label × year heat map. The policy labels are drawn;
``other`` is left to the tables, since it would flatten every colour scale.

Province and locality names are Chinese, so the charts need a CJK font: :func:`cjk_font` picks an
installed Noto CJK / Source Han / WenQuanYi font through matplotlib's font manager (registering the
system's font files when matplotlib's cache predates them). Without one, names are drawn as ASCII
ids instead of empty boxes (provinces in pinyin, localities as ``L1``, ``L2``, ...) and
:class:`Naming` says which id stands for which name, for the page's key. Label ids are ASCII
already, as in :mod:`policytag.training.plots`.

Example:
    >>> Naming(font=None, shown={"广东省": "Guangdong"})("广东省")
    'Guangdong'
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from policytag.collection.report import UNKNOWN, Breakdown, Report
from policytag.core.jsonl import atomic_write_bytes

__all__ = ["CHART_NAMES", "Chart", "Naming", "cjk_font", "make_charts", "naming_for", "write_charts"]

CHART_NAMES = ("share_by_year", "share_by_province", "top_localities", "label_year_heatmap")
# Family names in order of preference (simplified-Chinese faces first), and hints in font file names.
CJK_FAMILIES = (
    *("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei"),
    *("WenQuanYi Micro Hei", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC", "Noto Serif CJK JP"),
    *("Source Han Serif SC", "Droid Sans Fallback"),
)
_CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "notosanssc", "sourcehan", "wqy", "wenquanyi", "droidsansfallback")
# Short names of the province-level divisions, for charts drawn without a CJK font.
_PROVINCES_PINYIN = {
    "北京": "Beijing",
    "天津": "Tianjin",
    "河北": "Hebei",
    "山西": "Shanxi",
    "内蒙古": "Inner-Mongolia",
    "辽宁": "Liaoning",
    "吉林": "Jilin",
    "黑龙江": "Heilongjiang",
    "上海": "Shanghai",
    "江苏": "Jiangsu",
    "浙江": "Zhejiang",
    "安徽": "Anhui",
    "福建": "Fujian",
    "江西": "Jiangxi",
    "山东": "Shandong",
    "河南": "Henan",
    "湖北": "Hubei",
    "湖南": "Hunan",
    "广东": "Guangdong",
    "广西": "Guangxi",
    "海南": "Hainan",
    "重庆": "Chongqing",
    "四川": "Sichuan",
    "贵州": "Guizhou",
    "云南": "Yunnan",
    "西藏": "Tibet",
    "陕西": "Shaanxi",
    "甘肃": "Gansu",
    "青海": "Qinghai",
    "宁夏": "Ningxia",
    "新疆": "Xinjiang",
    "香港": "Hong-Kong",
    "澳门": "Macao",
    "台湾": "Taiwan",
}
_DPI = 110


def _installed_cjk_family() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font matplotlib can use, or None when there is none.

    matplotlib's font list is cached from its first run, so a font installed later (``fonts-noto-cjk``)
    is registered here from the system's font folders before giving up.
    """
    found = _installed_cjk_family()
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower().replace("_", "") for hint in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _installed_cjk_family()


@dataclass(frozen=True)
class Naming:
    """How the charts show a province or locality: itself with a CJK font, else an ASCII id."""

    font: str | None
    shown: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        return self.shown.get(name, name)

    @property
    def substitutes(self) -> dict[str, str]:
        """The ASCII id → name pairs the charts used instead of Chinese (empty with a CJK font)."""
        return {shown: name for name, shown in self.shown.items() if shown != name}


def _pinyin(province: str) -> str | None:
    return next((v for k, v in _PROVINCES_PINYIN.items() if province.startswith(k)), None)


def naming_for(report: Report, font: str | None) -> Naming:
    """Identity with a CJK ``font``; else pinyin provinces (``P1``... when unknown) and ``L1``... localities."""
    if font:
        return Naming(font)
    shown: dict[str, str] = {}
    for bucket in report.by_province.buckets:
        if not bucket.isascii():
            shown[bucket] = _pinyin(bucket) or f"P{len(shown) + 1}"
    places = dict.fromkeys(r.name for ranks in report.top_localities.values() for r in ranks)
    for n, place in enumerate(p for p in places if not p.isascii()):
        shown[place] = f"L{n + 1}"
    return Naming(None, shown)


@dataclass(frozen=True)
class Chart:
    """One chart: its file stem (``share_by_year``), a title for the page, and the PNG."""

    name: str
    title: str
    png: bytes


@contextmanager
def _font(font: str | None) -> Iterator[None]:
    # A list of families: Latin from DejaVu, and matplotlib falls back glyph by glyph to the CJK face.
    with plt.rc_context({"font.family": ["DejaVu Sans", font]} if font else {}):
        yield


def _png(fig: Any) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    plt.close(fig)
    return buf.getvalue()


def _colors(n: int) -> list[Any]:
    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def _year_ticks(by: Breakdown) -> tuple[list[int], list[float], list[str]]:
    """Indices of known and unknown buckets, their x positions (unknown set apart), tick texts."""
    known = [i for i, b in enumerate(by.buckets) if b != UNKNOWN]
    order = known + [i for i, b in enumerate(by.buckets) if b == UNKNOWN]
    xs = [float(k) for k in range(len(known))] + ([len(known) + 0.5] if len(order) > len(known) else [])
    ticks = [f"{by.buckets[i]}\n{by.documents[i]} docs" for i in order]
    return order, xs, ticks


def plot_share_by_year(report: Report, naming: Naming) -> bytes:
    """One line per label over the known years; the unknown-year bucket as open markers, set apart."""
    by = report.by_year
    order, xs, ticks = _year_ticks(by)
    n_known = sum(1 for b in by.buckets if b != UNKNOWN)
    with _font(naming.font):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        for j, (label, color) in enumerate(zip(report.chart_labels, _colors(len(report.chart_labels)), strict=True)):
            share = by.share(label)
            ys = [100 * share[i] for i in order]
            style = "-" if j < 10 else "--"
            ax.plot(xs[:n_known], ys[:n_known], marker="o", linestyle=style, color=color, label=label)
            if len(xs) > n_known:
                ax.plot(xs[n_known:], ys[n_known:], marker="o", markerfacecolor="none", linestyle="none", color=color)
        ax.set_xticks(xs, ticks, fontsize=8)
        ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("share of the year's sentences (%)")
        ax.set_title(f"Label share of sentences per year ({report.documents} documents, {report.sentences} sentences)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        return _png(fig)


def _annotated_grid(ax: Any, shares: np.ndarray, *, rows: Sequence[str], cols: Sequence[str]) -> Any:
    """A share grid (rows × columns, 0..1) drawn with percentages in the cells; returns the image.

    The colour scale ends at the 98th percentile of the cells, so that one year of two documents does
    not pale every other cell; the numbers in the cells are exact.
    """
    vmax = max(float(np.percentile(shares, 98)) if shares.size else 0.0, 0.01)
    im = ax.imshow(100 * shares, cmap="Blues", vmin=0, vmax=100 * vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            value = shares[i, j]
            color = "white" if value > 0.6 * vmax else "black"
            ax.text(j, i, f"{100 * value:.1f}", ha="center", va="center", fontsize=7, color=color)
    return im


def plot_share_by_province(report: Report, naming: Naming) -> bytes:
    """Provinces (rows, most documents first) × labels: the share of the province's sentences, in %."""
    by = report.by_province
    labels = report.chart_labels
    shares = by.matrix(labels).T
    rows = [f"{naming(b)} ({by.documents[i]})" for i, b in enumerate(by.buckets)]
    with _font(naming.font):
        fig, ax = plt.subplots(figsize=(11, max(3.0, 0.42 * len(rows) + 2.2)))
        im = _annotated_grid(ax, shares, rows=rows, cols=labels)
        ax.set_ylabel("province (documents)")
        ax.set_title("Label share of sentences per province (%)")
        fig.colorbar(im, ax=ax, fraction=0.03, extend="max", label="% of the province's sentences")
        return _png(fig)


def plot_label_year_heatmap(report: Report, naming: Naming) -> bytes:
    """Labels (rows) × years (columns): the share of each year's sentences, in %."""
    by = report.by_year
    labels = report.chart_labels
    cols = [f"{b} ({by.documents[i]})" for i, b in enumerate(by.buckets)]
    with _font(naming.font):
        fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(cols) + 4.0), 6.5))
        im = _annotated_grid(ax, by.matrix(labels), rows=labels, cols=cols)
        ax.set_xlabel("year (documents)")
        ax.set_title("Label × year: share of sentences (%)")
        fig.colorbar(im, ax=ax, fraction=0.046, extend="max", label="% of the year's sentences")
        return _png(fig)


def _locality_panel(ax: Any, report: Report, label: str, naming: Naming) -> None:
    ranks = report.top_localities.get(label, [])
    ax.set_title(label, fontsize=9)
    if not ranks:
        ax.text(
            0.5, 0.5, f"no locality with\n>= {report.min_sentences} sentences", ha="center", va="center", fontsize=8
        )
        ax.set_axis_off()
        return
    names = [naming(r.name) for r in ranks][::-1]
    values = [100 * r.share for r in ranks][::-1]
    bars = ax.barh(names, values, color="#3b75af")
    for bar, r in zip(bars, ranks[::-1], strict=True):
        ax.text(
            bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {r.count}/{r.sentences}", va="center", fontsize=7
        )
    ax.set_xlim(0, max(values) * 1.35)
    ax.tick_params(axis="y", labelsize=8)
    ax.tick_params(axis="x", labelsize=7)


def plot_top_localities(report: Report, naming: Naming) -> bytes:
    """One panel per label: its top localities by share of their sentences (label sentences / all)."""
    labels = report.chart_labels
    ncols = 4
    nrows = max(1, math.ceil(len(labels) / ncols))
    with _font(naming.font):
        fig, axes = plt.subplots(nrows, ncols, figsize=(15, 2.6 * nrows + 0.8), squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k < len(labels):
                _locality_panel(ax, report, labels[k], naming)
            else:
                ax.set_axis_off()
        fig.suptitle(
            f"Top {report.top} localities per label: % of the locality's sentences "
            f"(localities with >= {report.min_sentences} sentences)",
            fontsize=11,
        )
        return _png(fig)


_PLOTS = {
    "share_by_year": ("Label share of sentences per year", plot_share_by_year),
    "share_by_province": ("Label share of sentences per province", plot_share_by_province),
    "top_localities": ("Top localities per label", plot_top_localities),
    "label_year_heatmap": ("Label × year heat map", plot_label_year_heatmap),
}


def make_charts(report: Report, *, cjk: bool = True) -> tuple[list[Chart], Naming]:
    """The four charts (in :data:`CHART_NAMES` order) and the naming they used.

    ``cjk=False`` draws ASCII ids even when a CJK font is installed (the fallback, on purpose).
    """
    naming = naming_for(report, cjk_font() if cjk else None)
    charts = [Chart(name, title, plot(report, naming)) for name, (title, plot) in _PLOTS.items()]
    return charts, naming


def write_charts(charts: Sequence[Chart], out: str | Path) -> list[Path]:
    """Write each chart as ``out/<name>.png`` (atomically); returns the paths."""
    paths = []
    for chart in charts:
        path = Path(out) / f"{chart.name}.png"
        atomic_write_bytes(path, chart.png)
        paths.append(path)
    return paths
