"""What one running app holds: settings and metrics from the start, the loaded model once it is ready.

The model's part is one value (:class:`Ready`), set once the model is loaded and warmed up: a route that needs
the model gets it whole from the ``ReadyState`` dependency (503 before), never a field that might be unset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.serving.core.batcher import MicroBatcher
from policytag.serving.core.config import Settings
from policytag.serving.core.metrics import Metrics
from policytag.training.model_folder import METRICS
from policytag.training.predictor import Predictor

__all__ = ["AppState", "Ready", "model_info"]


@dataclass(frozen=True, kw_only=True)
class Ready:
    """The loaded, warmed-up model and what serves it: what every model route works with."""

    settings: Settings
    predictor: Predictor
    batcher: MicroBatcher
    #: what /v1/model answers (:func:`model_info`)
    info: dict[str, Any]


@dataclass
class AppState:
    """One app's state: ``loaded`` is None until the model is ready; ``draining`` from shutdown on."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    loaded: Ready | None = None
    draining: bool = False

    @property
    def ready(self) -> Ready | None:
        """The model while the app serves it: None while loading and once shutting down (what /readyz answers)."""
        return None if self.draining else self.loaded

    def drain(self) -> None:
        """Readiness off for good: the server is shutting down (requests in flight still finish)."""
        self.draining = True


def model_info(folder: str | Path, predictor: Predictor) -> dict[str, Any]:
    """What /v1/model answers: read once at start-up from the model folder's JSON files."""
    p = Path(folder)
    manifest = predictor.manifest
    metrics = json.loads((p / METRICS).read_text(encoding="utf-8"))
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
        "numerics": predictor.numerics_info,
        "precision": predictor.numerics_info,  # the old name, kept for one release (deprecated in the schema)
    }
