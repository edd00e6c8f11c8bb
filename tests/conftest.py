"""Fixtures shared by the whole suite (helpers that tests import are in tests/support/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.training.config import TrainConfig
from policytag.training.train import TrainResult, train
from tests.support.paths import ROOT
from tests.support.training import tiny_config


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
