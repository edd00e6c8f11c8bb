"""One predictor interface for every model kind: ``load_predictor(folder).predict(sentences)``.

Used by ``policytag evaluate``, ``policytag predict``, cross-validation and the server. Loading
never executes code from the folder: weights are safetensors, everything else JSON, and
``trust_remote_code`` is never set.

Example:
    >>> predictor = load_predictor("models/demo")  # doctest: +SKIP
    >>> [p.labels for p in predictor.predict(["深入开展法律援助工作。"])]  # doctest: +SKIP
    [['legal_aid']]
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.training.thresholds import decide

__all__ = ["MANIFEST", "Prediction", "Predictor", "load_predictor", "read_manifest"]

MANIFEST = "policytag.json"


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
    def precision_info(self) -> dict[str, Any]:
        """The numeric precision the model runs in (see :mod:`policytag.training.precision`); /v1/model reports it."""
        return {"requested": "fp32", "used": "fp32", "reason": "not a neural model: precision does not apply"}

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Probabilities (len(texts) × labels, taxonomy order) and, per text, whether it was truncated."""

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


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The kit's manifest of a model folder; the error says what is missing."""
    p = Path(folder)
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such model folder")
    try:
        data = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: not a policytag model folder ({MANIFEST} missing)") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p / MANIFEST}: invalid JSON ({e.msg})") from None
    if not isinstance(data, dict) or data.get("kind") not in ("bert", "tfidf"):
        raise ValueError(f"{p / MANIFEST}: 'kind' must be 'bert' or 'tfidf'")
    return data


def read_thresholds(folder: Path, taxonomy: Taxonomy) -> np.ndarray:
    data = json.loads((folder / "thresholds.json").read_text(encoding="utf-8"))
    per_label = data["thresholds"]
    missing = [i for i in taxonomy.ids if i not in per_label]
    if missing:
        raise ValueError(f"{folder / 'thresholds.json'}: no threshold for {missing}")
    return np.array([float(per_label[i]) for i in taxonomy.ids])


def load_predictor(folder: str | Path, **kwargs: Any) -> Predictor:
    """Load the predictor of a model folder written by ``policytag train`` (either kind).

    BERT folders take ``device``, ``batch_size``, ``token_budget`` and ``precision``; for a TF-IDF
    folder they are moot, and ``precision`` must be ``fp32`` or ``auto`` (the same thing there).
    """
    p = Path(folder)
    manifest = read_manifest(p)
    taxonomy = Taxonomy.from_dict(
        json.loads((p / "taxonomy.json").read_text(encoding="utf-8")), source=str(p / "taxonomy.json")
    )
    thresholds = read_thresholds(p, taxonomy)
    if manifest["kind"] == "tfidf":
        from policytag.training.tfidf import TfidfPredictor

        precision = kwargs.pop("precision", "fp32")
        if precision not in ("fp32", "auto"):
            raise ValueError(f"{p}: precision {precision!r} applies to BERT models; this is a TF-IDF model")
        # device, batch_size and token_budget tune forward passes; TF-IDF has none, so they are moot.
        return TfidfPredictor.from_folder(p, taxonomy=taxonomy, thresholds=thresholds, manifest=manifest)
    from policytag.training.bert_predictor import BertPredictor

    return BertPredictor.from_folder(p, taxonomy=taxonomy, thresholds=thresholds, manifest=manifest, **kwargs)
