"""The report page in a real, headless Chromium: every chart loads, the tables are there, nothing outside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policytag.collection.charts import CHART_NAMES, cjk_font
from policytag.collection.report_page import PAGE_NAME, write_report
from policytag.core.taxonomy import Taxonomy
from tests.support.collection import DocSpec, doc_specs, fabricated_results
from tests.support.paths import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    results = fabricated_results(tmp / "results", taxonomy)
    write_report(results, tmp / "report", min_sentences=10)
    return tmp / "report" / PAGE_NAME


def test_page_shows_every_chart_and_table(browser: object, page: Path, taxonomy: Taxonomy) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.find_elements(By.CSS_SELECTOR, "img.chart")
    assert [img.get_attribute("data-chart") for img in images] == list(CHART_NAMES)
    for img in images:
        loaded = browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
        assert loaded and int(loaded) > 300, img.get_attribute("data-chart")
        assert (img.get_attribute("src") or "").startswith("data:image/png;base64,")
    years = browser.find_elements(By.CSS_SELECTOR, "#table-year tbody tr th")
    assert [th.text for th in years] == ["2021", "2022", "2023", "unknown"]
    provinces = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#table-province tbody tr th")]
    assert provinces == ["广东省", "浙江省", "四川省", "unknown"]
    header = browser.find_element(By.CSS_SELECTOR, "#table-year thead").text
    assert "legal_aid" in header and taxonomy["legal_aid"].zh in header
    first = browser.find_element(By.CSS_SELECTOR, "#table-localities tbody tr").text
    assert "enforcement" in first and "%" in first
    assert "12" in browser.find_element(By.ID, "table-summary").text  # documents
    # Nothing but the page itself and its data: images were loaded.
    names = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(str(n).startswith("data:") for n in names), names
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "report-page.png"))


def test_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "default-src 'none'; img-src data:" in html
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html))
    assert len(re.findall(r"<img ", html)) == len(CHART_NAMES)


def test_text_from_the_data_is_escaped(tmp_path: Path, taxonomy: Taxonomy) -> None:
    specs = [DocSpec("<b>省</b>", '某市"><img src=x>', 2022, s.labels) for s in doc_specs(taxonomy)[:2]]
    write_report(fabricated_results(tmp_path / "r", taxonomy, specs), tmp_path / "out", min_sentences=1)
    html = (tmp_path / "out" / PAGE_NAME).read_text(encoding="utf-8")
    assert "<b>省</b>" not in html and "&lt;b&gt;省&lt;/b&gt;" in html
    assert "<img src=x>" not in html and "&lt;img src=x&gt;" in html


def test_the_key_names_places_when_charts_use_ascii_ids(tmp_path: Path, taxonomy: Taxonomy) -> None:
    results = fabricated_results(tmp_path / "r", taxonomy)
    write_report(results, tmp_path / "out", min_sentences=10, cjk=False)
    html = (tmp_path / "out" / PAGE_NAME).read_text(encoding="utf-8")
    assert 'id="table-key"' in html and '<td class="name">Guangdong</td><td class="name">广东省</td>' in html
    if cjk_font() is not None:  # with a CJK font the charts name places themselves: no key
        write_report(results, tmp_path / "cjk", min_sentences=10)
        assert 'id="table-key"' not in (tmp_path / "cjk" / PAGE_NAME).read_text(encoding="utf-8")


def test_label_names_come_from_the_taxonomy_the_job_recorded(tmp_path: Path, taxonomy: Taxonomy) -> None:
    results = fabricated_results(tmp_path / "r", taxonomy)
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    for label in manifest["taxonomy_definition"]["labels"]:
        if label["id"] == "legal_aid":
            label["zh"] = "法援（记录的名称）"
    (results / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    write_report(results, tmp_path / "out")
    html = (tmp_path / "out" / PAGE_NAME).read_text(encoding="utf-8")
    assert "法援（记录的名称）" in html and taxonomy["mediation"].zh in html
