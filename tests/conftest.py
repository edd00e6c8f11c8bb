from __future__ import annotations

from pathlib import Path

import pytest

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.training.config import TrainConfig
from policytag.training.train import TrainResult, train

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tiny_config(tmp_path_factory.mktemp("models")), progress=False)


@pytest.fixture(scope="session")
def tfidf_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("models") / "tfidf"
    return train(TrainConfig(data=str(ROOT / "labels" / "gold.jsonl"), output_dir=str(out), kind="tfidf"))
