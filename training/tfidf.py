"""The baseline: character n-gram TF-IDF with one logistic regression per label.

Stored without pickle: the n-gram vocabulary as JSON, idf, coefficients and intercepts as
safetensors arrays, so loading a model never executes code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from policytag.core.taxonomy import Taxonomy
from policytag.training.predictor_base import Predictor

__all__ = ["TfidfPredictor", "fit_tfidf"]

WEIGHTS = "model.safetensors"
VOCAB = "vocabulary.json"


def _vectorizer(ngram_max: int, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(1, ngram_max), sublinear_tf=True, lowercase=True, vocabulary=vocabulary
    )


@dataclass
class TfidfPredictor(Predictor):
    vectorizer: TfidfVectorizer | None = None
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        assert self.vectorizer is not None and self.coef is not None and self.intercept is not None
        x = self.vectorizer.transform(list(texts))
        logits = np.asarray(x @ self.coef.T) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits)), [False] * len(texts)

    def save(self, folder: Path) -> None:
        assert self.vectorizer is not None and self.coef is not None and self.intercept is not None
        vocab = self.vectorizer.vocabulary_
        ngrams = [""] * len(vocab)
        for gram, i in vocab.items():
            ngrams[i] = gram
        save_file(
            {
                "coef": self.coef.astype(np.float32),
                "intercept": self.intercept.astype(np.float32),
                "idf": self.vectorizer.idf_.astype(np.float32),
            },
            str(folder / WEIGHTS),
        )
        (folder / VOCAB).write_text(json.dumps(ngrams, ensure_ascii=False), encoding="utf-8")
        config = {
            "model_type": "policytag-tfidf",
            "analyzer": "char",
            "ngram_range": [1, self.vectorizer.ngram_range[1]],
            "sublinear_tf": True,
            "lowercase": True,
            "id2label": dict(enumerate(self.taxonomy.ids)),
            "label2id": {label: i for i, label in enumerate(self.taxonomy.ids)},
        }
        (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def from_folder(
        cls, folder: Path, *, taxonomy: Taxonomy, thresholds: np.ndarray, manifest: dict[str, Any]
    ) -> TfidfPredictor:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        ngrams = json.loads((folder / VOCAB).read_text(encoding="utf-8"))
        arrays = load_file(str(folder / WEIGHTS))
        if arrays["coef"].shape != (len(taxonomy), len(ngrams)):
            raise ValueError(f"{folder}: weights {arrays['coef'].shape} do not match the taxonomy and vocabulary")
        vec = _vectorizer(int(config["ngram_range"][1]), {g: i for i, g in enumerate(ngrams)})
        vec.idf_ = arrays["idf"].astype(np.float64)
        return cls(
            taxonomy=taxonomy,
            thresholds=thresholds,
            manifest=manifest,
            vectorizer=vec,
            coef=arrays["coef"].astype(np.float64),
            intercept=arrays["intercept"].astype(np.float64),
        )


def fit_tfidf(
    texts: Sequence[str],
    targets: np.ndarray,
    *,
    taxonomy: Taxonomy,
    ngram_max: int,
    c: float,
    balanced: bool,
    seed: int,
) -> TfidfPredictor:
    """Fit the vectorizer and one logistic regression per label (thresholds are set by the caller)."""
    vec = _vectorizer(ngram_max)
    x = vec.fit_transform(list(texts))
    coef = np.zeros((len(taxonomy), x.shape[1]))
    intercept = np.full(len(taxonomy), -10.0)  # a label never seen in training is never predicted
    for j in range(len(taxonomy)):
        y = targets[:, j]
        if y.min() == y.max():
            if y.max() == 1:
                intercept[j] = 10.0
            continue
        lr = LogisticRegression(
            C=c, class_weight="balanced" if balanced else None, max_iter=2000, solver="liblinear", random_state=seed
        )
        lr.fit(x, y)
        coef[j] = lr.coef_[0]
        intercept[j] = lr.intercept_[0]
    return TfidfPredictor(
        taxonomy=taxonomy, thresholds=np.full(len(taxonomy), 0.5), vectorizer=vec, coef=coef, intercept=intercept
    )
