"""Fixtures of the training tests that more than one module uses (a trained scratch-tiny BERT, its sample)."""

from __future__ import annotations

import pytest

from policytag.core.jsonl import read_jsonl
from policytag.training.train import TrainResult, train
from tests.support.paths import ROOT
from tests.support.training import tiny_config

GOLD = ROOT / "labels" / "gold.jsonl"
ORIGINAL_SEEDS = ("000_", "001_", "002_", "003_", "004_")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A scratch-tiny BERT trained long enough that most scores are decisive (10 epochs, ~15 s).

    The 2-epoch ``tiny_model`` of the other tests scores every sentence within 0.02 of its
    thresholds, where any rounding flips labels: it says nothing about the numerics paths.
    """
    cfg = tiny_config(tmp_path_factory.mktemp("numerics"), epochs=10.0, early_stopping_patience=100)
    return train(cfg, progress=False)


@pytest.fixture(scope="session")
def gold_texts() -> list[str]:
    """The gold sentences of the five original seeds: the fixed sample the tolerances were measured on."""
    return [r["text"] for r in read_jsonl(GOLD) if r["doc"].startswith(ORIGINAL_SEEDS)]
