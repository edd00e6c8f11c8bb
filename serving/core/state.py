"""What one running app holds: settings, the loaded predictor, its batcher, metrics and readiness."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.serving.core.batcher import MicroBatcher
from policytag.serving.core.config import Settings
from policytag.serving.core.metrics import Metrics
from policytag.training.predictor import Predictor

__all__ = ["AppState", "model_info"]


@dataclass
class AppState:
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    predictor: Predictor | None = None
    batcher: MicroBatcher | None = None
    info: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    draining: bool = False


def model_info(folder: str | Path, predictor: Predictor) -> dict[str, Any]:
    """What /v1/model answers: read once at start-up from the model folder's JSON files."""
    p = Path(folder)
    manifest = predictor.manifest
    metrics = json.loads((p / "metrics.json").read_text(encoding="utf-8"))
    return {
        "name": predictor.name,
        "version": predictor.version,
        "kind": manifest["kind"],
        "base_model": manifest.get("base_model", {}),
        "data_fingerprint": manifest.get("data_fingerprint", ""),
        "max_length": int(manifest.get("max_length", 0)),
        "created_at": manifest.get("created_at"),
        "thresholds": {i: float(t) for i, t in zip(predictor.taxonomy.ids, predictor.thresholds, strict=True)},
        "metrics": metrics,
        "precision": predictor.precision_info,
    }
