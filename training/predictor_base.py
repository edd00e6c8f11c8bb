"""What every model kind's predictor is: :class:`Predictor`, and its answer, :class:`Prediction`.

The kinds' predictors (``tfidf.TfidfPredictor``, ``bert_predictor.BertPredictor``) subclass it here;
everyone else imports these names from :mod:`policytag.training.predictor`, next to
``load_predictor``. They live apart from ``load_predictor`` because loading goes through the registry
of kinds, which imports the kinds' predictors: one module holding both would import itself in a loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.training.thresholds import decide

__all__ = ["Prediction", "Predictor"]


@dataclass(frozen=True)
class Prediction:
    """Labels (taxonomy ids), the probability of every label, and whether the input was cut short."""

    labels: list[str]
    scores: dict[str, float]
    truncated: bool = False


@dataclass
class Predictor(ABC):
    """Turns sentences into label sets with the model's own per-label thresholds."""

    taxonomy: Taxonomy
    thresholds: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", "unnamed"))

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    @property
    def numerics_info(self) -> dict[str, Any]:
        """The inference numerics the model runs in (see :mod:`policytag.training.numerics`); /v1/model reports them."""
        return {"requested": "fp32", "used": "fp32", "reason": "not a neural model: inference numerics do not apply"}

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Probabilities (len(texts) × labels, taxonomy order) and, per text, whether it was truncated."""

    def warm_up(self) -> int:
        """Run the model once before serving (kinds whose kernels depend on input shapes run each shape);
        returns how many passes it made."""
        self.predict_proba(["法治政府建设。", "预热"])
        return 1

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of sentences, not one string")
        if not texts:
            return []
        probs, truncated = self.predict_proba(texts)
        label_sets = decide(probs, self.thresholds, self.taxonomy)
        ids = self.taxonomy.ids
        return [
            Prediction(labels=labels, scores={ids[j]: round(float(row[j]), 6) for j in range(len(ids))}, truncated=t)
            for labels, row, t in zip(label_sets, probs, truncated, strict=True)
        ]
