"""The tagging page in a real, headless Chromium (Debian's chromium and chromium-driver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import policytag.serving
from policytag.labels.documents import read_document
from policytag.serving.api.routes.page import STATIC_DIR
from policytag.training.train import TrainResult
from tests.support.paths import ROOT
from tests.support.serving import live_server

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def page_server(tiny_model: TrainResult) -> Iterator[str]:
    with live_server(tiny_model.folder, max_sentences="40") as (base, _):
        yield base


def test_page_tags_a_pasted_report(browser: object, page_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    text = "\n".join(read_document(ROOT / "seeds" / "003_fb63a9ae8bf308c5.txt").text.splitlines()[20:32]).strip()
    expected = httpx.post(f"{page_server}/v1/documents", json={"text": text}, timeout=60).json()

    browser.get(page_server + "/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: "模型" in d.find_element(By.ID, "model-info").text)
    assert "macro-F1" in browser.find_element(By.ID, "model-info").text
    box = browser.find_element(By.ID, "doc-text")
    browser.execute_script("arguments[0].value = arguments[1];", box, text)
    browser.find_element(By.ID, "tag-text").click()
    wait.until(ec.visibility_of_element_located((By.ID, "result")))

    spans = browser.find_elements(By.CSS_SELECTOR, "#document .sent")
    assert len(spans) == len(expected["sentences"]) > 3
    assert [s.text.strip() for s in spans] == [s["text"] for s in expected["sentences"]]
    # Each sentence carries its labels, and one coloured mark per category.
    for span, sent in zip(spans, expected["sentences"], strict=True):
        assert span.get_attribute("data-labels") == " ".join(sent["labels"])
        marks = span.find_elements(By.CSS_SELECTOR, ".mark")
        assert len(marks) == len([x for x in sent["labels"] if x != "other"])
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar")
    assert {b.get_attribute("data-label"): int(b.get_attribute("data-count") or 0) for b in bars} == expected[
        "summary"
    ]["counts"]
    # Legend filter: only the chosen category's sentences stay fully visible.
    top = max(expected["summary"]["counts"], key=expected["summary"]["counts"].get)
    browser.find_element(By.CSS_SELECTOR, f"#legend button[data-label='{top}']").click()
    visible = browser.find_elements(By.CSS_SELECTOR, "#document .sent:not(.dim)")
    assert len(visible) == expected["summary"]["counts"][top]
    spans[0].click()
    assert "0." in browser.find_element(By.ID, "detail").text
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "page.png"))


def test_page_explains_a_413(browser: object, page_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.get(page_server + "/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: "模型" in d.find_element(By.ID, "model-info").text)
    long_text = read_document(ROOT / "seeds" / "000_c56cf7c78c364481.txt").text  # 118 sentences, over the cap of 40
    browser.execute_script("arguments[0].value = arguments[1];", browser.find_element(By.ID, "doc-text"), long_text)
    browser.find_element(By.ID, "tag-text").click()
    wait.until(lambda d: "413" in d.find_element(By.ID, "message").text)
    message = browser.find_element(By.ID, "message").text
    assert "文档过大" in message and "limit 40" in message
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "page-413.png"))


def test_page_is_served_without_outside_resources(page_server: str) -> None:
    html = httpx.get(page_server + "/").text
    assert "<title>" in html and "/static/app.js" in html
    for asset in ("/static/app.js", "/static/app.css"):
        body = httpx.get(page_server + asset).text
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "") and "https://" not in body


def test_page_asks_for_the_api_key_and_sends_it_in_a_header(browser: object, tiny_model: TrainResult) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    with live_server(tiny_model.folder, api_key="page-s3cret") as (base, _):
        browser.get(base + "/")
        wait = WebDriverWait(browser, 30)
        wait.until(ec.visibility_of_element_located((By.ID, "key-box")))
        assert "401" in browser.find_element(By.ID, "message").text
        browser.find_element(By.ID, "api-key").send_keys("page-s3cret")
        browser.find_element(By.ID, "key-save").click()
        wait.until(lambda d: "macro-F1" in d.find_element(By.ID, "model-info").text)
        browser.execute_script(
            "arguments[0].value = '扎实开展人民调解工作。';", browser.find_element(By.ID, "doc-text")
        )
        browser.find_element(By.ID, "tag-text").click()
        wait.until(ec.visibility_of_element_located((By.ID, "result")))
        assert len(browser.find_elements(By.CSS_SELECTOR, "#document .sent")) == 1
        assert "page-s3cret" not in browser.current_url


def test_static_files_are_found_in_the_package(client: TestClient) -> None:
    # Package data of policytag.serving, not a path above the source file: an installed wheel finds them too.
    assert Path(policytag.serving.__file__).parent / "static" == STATIC_DIR
    r = client.get("/")
    assert r.status_code == 200 and r.text == (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert client.get("/static/app.js").status_code == 200
