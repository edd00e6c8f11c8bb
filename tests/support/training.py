"""Training configs the tests share: a scratch-tiny BERT that trains in seconds on two cores."""

from __future__ import annotations

from pathlib import Path

from policytag.training.config import TrainConfig
from tests.support.paths import ROOT

__all__ = ["tiny_config"]


def tiny_config(tmp: Path, **kw: object) -> TrainConfig:
    """A scratch-tiny BERT on (the first 600 training sentences of) the gold set: seconds on two cores."""
    values: dict[str, object] = {
        "data": str(ROOT / "labels" / "gold.jsonl"),
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
