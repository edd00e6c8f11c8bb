"""The ``tfidf`` kind: character n-gram TF-IDF with one logistic regression per label (:mod:`policytag.training.tfidf`).

A baseline that trains in seconds on the CPU; its folder holds the vocabulary and weights without
pickle. Numerics do not apply: it runs in fp32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.config import TrainConfig
from policytag.training.kinds import FitResult, ModelKind, register
from policytag.training.tfidf import TfidfPredictor, fit_tfidf

__all__ = ["TfidfKind"]

# load_predictor's options that tune forward passes: TF-IDF has none, so they are accepted and moot.
_MOOT_OPTIONS = frozenset({"device", "batch_size", "token_budget"})


@register
class TfidfKind(ModelKind):
    name = "tfidf"

    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        targets = np.array([taxonomy.multi_hot(r["labels"]) for r in split.train], dtype=int)
        predictor = fit_tfidf(
            [r["text"] for r in split.train],
            targets,
            taxonomy=taxonomy,
            ngram_max=cfg.tfidf_ngram_max,
            c=cfg.tfidf_c,
            balanced=cfg.pos_weight,
            seed=cfg.seed,
        )
        base = {
            "kind": "tfidf",
            "name": f"char-1-{cfg.tfidf_ngram_max}gram-tfidf",
            "description": f"character 1–{cfg.tfidf_ngram_max}-gram TF-IDF with one logistic regression per label "
            "(scikit-learn); no pretrained weights",
            "tried": [],
        }
        return FitResult(predictor=predictor, base=base)

    def save(self, result: FitResult, folder: Path) -> None:
        if not isinstance(result.predictor, TfidfPredictor):
            raise TypeError(f"the tfidf kind saves a TfidfPredictor, not {type(result.predictor).__name__}")
        result.predictor.save(folder)

    def load(
        self, folder: Path, *, taxonomy: Taxonomy, thresholds: np.ndarray, manifest: dict[str, Any], **options: Any
    ) -> TfidfPredictor:
        numerics = options.pop("numerics", "fp32")
        if numerics not in ("fp32", "auto"):
            raise ValueError(f"{folder}: numerics {numerics!r} applies to BERT models; this is a TF-IDF model")
        unknown = sorted(set(options) - _MOOT_OPTIONS)
        if unknown:
            raise TypeError(f"load_predictor() got unexpected options {unknown}")
        return TfidfPredictor.from_folder(folder, taxonomy=taxonomy, thresholds=thresholds, manifest=manifest)
