"""The baseline: character n-gram TF-IDF with one logistic regression per label, and its settings' search.

Stored without pickle: the n-gram vocabulary as JSON, idf, coefficients and intercepts as
safetensors arrays, so loading a model never executes code.

:func:`search_tfidf` chooses C, the longest n-gram and the class weighting by grouped CV on the
training side. Character n-grams only: word n-grams would need a segmenter (jieba is not a
dependency), and the dependency-free stand-in, character bigrams, is already in every grid point
from ``ngram_max`` 2 on.
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
from policytag.training.metrics import multilabel_metrics
from policytag.training.oof import grouped_folds
from policytag.training.predictor_base import Predictor
from policytag.training.thresholds import decide, tune_thresholds

__all__ = ["TfidfPredictor", "TfidfSearch", "TfidfSettings", "fit_tfidf", "search_grid", "search_tfidf"]

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
        return _sigmoid_scores(x, self.coef, self.intercept), [False] * len(texts)

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


def _fit_heads(x: Any, targets: np.ndarray, *, c: float, balanced: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per label on features ``x``: the coefficients and intercepts (labels × features)."""
    coef = np.zeros((targets.shape[1], x.shape[1]))
    intercept = np.full(targets.shape[1], -10.0)  # a label never seen in training is never predicted
    for j in range(targets.shape[1]):
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
    return coef, intercept


def _sigmoid_scores(x: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(np.asarray(x @ coef.T) + intercept)))


def fit_tfidf(
    texts: Sequence[str],
    targets: np.ndarray,
    *,
    taxonomy: Taxonomy,
    settings: TfidfSettings,
    seed: int,
) -> TfidfPredictor:
    """Fit the vectorizer and one logistic regression per label (thresholds are set by the caller)."""
    ngram_max, c, balanced = settings.ngram_max, settings.c, settings.balanced
    if targets.shape != (len(texts), len(taxonomy)):
        raise ValueError(f"targets {targets.shape} do not match {len(texts)} texts and {len(taxonomy)} labels")
    vec = _vectorizer(ngram_max)
    x = vec.fit_transform(list(texts))
    coef, intercept = _fit_heads(x, targets, c=c, balanced=balanced, seed=seed)
    return TfidfPredictor(
        taxonomy=taxonomy, thresholds=np.full(len(taxonomy), 0.5), vectorizer=vec, coef=coef, intercept=intercept
    )


@dataclass(frozen=True)
class TfidfSettings:
    """One point of the search grid: the longest character n-gram, C, and whether classes are balanced."""

    ngram_max: int
    c: float
    balanced: bool

    def as_dict(self) -> dict[str, Any]:
        return {"ngram_max": self.ngram_max, "c": self.c, "class_weight": "balanced" if self.balanced else "none"}


@dataclass(frozen=True)
class TfidfSearch:
    """The search's outcome: the chosen settings, every point's score, the chosen one's out-of-fold probabilities."""

    chosen: TfidfSettings
    scores: list[tuple[TfidfSettings, float]]
    oof_probs: np.ndarray
    grouping: str

    def record(self) -> dict[str, Any]:
        """The manifest's account of the search (under ``base_model.search``)."""
        return {
            "method": f"grouped CV on the training side ({self.grouping}); each point scored by the macro-F1 of "
            "its out-of-fold predictions with per-label thresholds tuned on them; ties go to the earlier point",
            "chosen": self.chosen.as_dict(),
            "grid": [{**s.as_dict(), "macro_f1": round(f1, 4)} for s, f1 in self.scores],
        }


def search_grid(ngrams: Sequence[int], cs: Sequence[float], weights: Sequence[str]) -> list[TfidfSettings]:
    """The grid in the order ties are broken: shorter n-grams, then the order ``cs`` and ``weights`` are given in."""
    return [TfidfSettings(n, c, w == "balanced") for n in sorted(set(ngrams)) for c in cs for w in weights]


def _fold_scores(
    texts: list[str], targets: np.ndarray, train_idx: np.ndarray, held: np.ndarray, grid: list[TfidfSettings], seed: int
) -> dict[TfidfSettings, np.ndarray]:
    """The held-out probabilities of every grid point for one fold (one vectorizer per n-gram length)."""
    out: dict[TfidfSettings, np.ndarray] = {}
    for n in sorted({s.ngram_max for s in grid}):
        vec = _vectorizer(n)
        x_train = vec.fit_transform([texts[i] for i in train_idx])
        x_held = vec.transform([texts[i] for i in held])
        for s in (s for s in grid if s.ngram_max == n):
            coef, intercept = _fit_heads(x_train, targets[train_idx], c=s.c, balanced=s.balanced, seed=seed)
            out[s] = _sigmoid_scores(x_held, coef, intercept)
    return out


def search_tfidf(
    records: Sequence[dict[str, Any]],
    targets: np.ndarray,
    *,
    taxonomy: Taxonomy,
    grid: list[TfidfSettings],
    folds: int,
    seed: int,
    floor: float,
    default: float,
) -> TfidfSearch:
    """Choose the grid point whose out-of-fold predictions on ``records`` (grouped folds) score the best macro-F1.

    Only ``records`` are used (the training side handed to the kind), so an outer test fold is never seen.
    Each point is scored as the final model will be used: thresholds tuned on the out-of-fold
    probabilities (with ``floor``), then the one decision rule.
    """
    held_out, grouping = grouped_folds(records, folds=folds, seed=seed)
    texts = [r["text"] for r in records]
    probs = {s: np.zeros(targets.shape) for s in grid}
    for held in held_out:
        train_idx = np.setdiff1d(np.arange(len(records)), held)
        for s, p in _fold_scores(texts, targets, train_idx, held, grid, seed).items():
            probs[s][held] = p
    truth = [r["labels"] for r in records]
    scores = []
    for s in grid:
        thresholds, _ = tune_thresholds(probs[s], targets, floor=floor, default=default)
        scores.append((s, multilabel_metrics(truth, decide(probs[s], thresholds, taxonomy), taxonomy)["macro_f1"]))
    best = max(range(len(scores)), key=lambda i: (scores[i][1], -i))  # the earliest of equal scores
    chosen = scores[best][0]
    return TfidfSearch(chosen=chosen, scores=scores, oof_probs=probs[chosen], grouping=grouping)
