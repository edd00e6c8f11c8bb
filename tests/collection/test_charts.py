"""The report's PNG charts: four of them, Chinese names with a CJK font, ASCII ids without one."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from matplotlib import font_manager

from policytag.collection.charts import CHART_NAMES, Naming, cjk_font, make_charts, naming_for, write_charts
from policytag.collection.report import Report, load_report
from policytag.core.taxonomy import Taxonomy
from tests.support.collection import DocSpec, doc_specs, fabricated_results

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy) -> Report:
    return load_report(fabricated_results(tmp_path_factory.mktemp("r") / "results", taxonomy), min_sentences=10)


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    height, width = mpimg.imread(io.BytesIO(png), format="png").shape[:2]
    return width, height


def _has_cjk_font_file() -> bool:
    hints = ("notosanscjk", "notoserifcjk", "sourcehan", "wqy", "wenquanyi")
    return any(any(h in Path(p).name.lower() for h in hints) for p in font_manager.findSystemFonts())


def test_four_charts_with_chinese_names_when_a_cjk_font_is_installed(report: Report) -> None:
    if not _has_cjk_font_file():
        pytest.skip("no CJK font installed (fonts-noto-cjk); the ASCII fallback is tested below")
    assert cjk_font() is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts, naming = make_charts(report)
    assert [c.name for c in charts] == list(CHART_NAMES)
    assert naming.font == cjk_font() and naming.substitutes == {} and naming("广东省") == "广东省"
    assert not [w for w in caught if "Glyph" in str(w.message)], "a CJK glyph fell back to an empty box"
    for chart in charts:
        width, height = _size(chart.png)
        assert width > 400 and height > 250, chart.name


def test_without_a_cjk_font_places_are_ascii_ids(report: Report) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts, naming = make_charts(report, cjk=False)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert naming.font is None and len(charts) == 4
    assert naming("广东省") == "Guangdong" and naming("四川省") == "Sichuan"
    hub = report.top_localities["mediation"][0].name
    assert naming(hub).startswith("L") and naming.substitutes[naming(hub)] == hub
    assert all(shown.isascii() for shown in naming.substitutes)


def test_pinyin_for_provinces_and_ids_for_the_rest() -> None:
    naming = Naming(None, {"内蒙古自治区": "Inner Mongolia"})
    assert naming("内蒙古自治区") == "Inner Mongolia" and naming("unknown") == "unknown"


def test_naming_for_an_unknown_province_name(tmp_path: Path, taxonomy: Taxonomy) -> None:
    specs = [DocSpec("某省", "某市", 2022, s.labels) for s in doc_specs(taxonomy)[:2]]
    report = load_report(fabricated_results(tmp_path / "r", taxonomy, specs), min_sentences=1)
    naming = naming_for(report, None)
    assert naming("某省") == "P1" and naming("某市 (某省)") == "L1"
    assert naming_for(report, "Some CJK Font").substitutes == {}


def test_a_single_year_without_places_still_draws(tmp_path: Path, taxonomy: Taxonomy) -> None:
    specs = [DocSpec(None, None, 2023, s.labels) for s in doc_specs(taxonomy)[:2]]
    report = load_report(fabricated_results(tmp_path / "r", taxonomy, specs))
    charts, _ = make_charts(report, cjk=False)
    assert all(_size(c.png)[0] > 300 for c in charts)


def test_write_charts_writes_one_png_each(report: Report, tmp_path: Path) -> None:
    charts, _ = make_charts(report, cjk=False)
    paths = write_charts(charts, tmp_path / "out")
    assert [p.name for p in paths] == [f"{n}.png" for n in CHART_NAMES]
    assert all(p.read_bytes() == c.png for p, c in zip(paths, charts, strict=True))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)  # no temporaries
