"""Fixtures shared by the whole suite (helpers that tests import are in tests/support/)."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.training.config import TrainConfig
from policytag.training.train import TrainResult, train
from tests.support.paths import ROOT
from tests.support.training import tiny_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tiny_config(tmp_path_factory.mktemp("models")), progress=False)


@pytest.fixture(scope="session")
def tfidf_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("models") / "tfidf"
    return train(TrainConfig(data=str(ROOT / "labels" / "gold.jsonl"), output_dir=str(out), kind="tfidf"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium (selenium ``WebDriver``) for the page tests; skipped, with a warning, without one."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        msg = "BROWSER TEST SKIPPED: Debian's chromium and chromium-driver are not installed (make test installs them)"
        warnings.warn(msg, stacklevel=1)
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1400,1100"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
