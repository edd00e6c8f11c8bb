"""Training configs the tests share: a scratch-tiny BERT that trains in seconds on two cores."""

from __future__ import annotations

from pathlib import Path

from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.labels.dataset import locality_of
from policytag.training.config import TrainConfig
from tests.support.paths import ROOT

__all__ = ["gold_of_localities", "tiny_config"]

GOLD = ROOT / "labels" / "gold.jsonl"


def gold_of_localities(path: Path, localities: int) -> Path:
    """Write to ``path`` the gold sentences of the first ``localities`` localities (sorted): folds that
    train in a second, still grouped by locality; returns ``path``."""
    gold = read_jsonl(GOLD)
    keep = set(sorted({locality_of(r) for r in gold})[:localities])
    write_jsonl(path, [r for r in gold if locality_of(r) in keep])
    return path


def tiny_config(tmp: Path, **kw: object) -> TrainConfig:
    """A scratch-tiny BERT on (the first 600 training sentences of) the gold set: seconds on two cores."""
    values: dict[str, object] = {
        "data": str(GOLD),
        "output_dir": str(tmp / "tiny"),
        "base_model": "scratch-tiny",
        "epochs": 2.0,
        "batch_size": 32,
        "max_length": 64,
        "learning_rate": 2e-3,
        "early_stopping_patience": 5,
        "limit": 600,
    }
    values.update(kw)
    return TrainConfig(**values)  # type: ignore[arg-type]
