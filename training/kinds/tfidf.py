"""The ``tfidf`` kind: character n-gram TF-IDF with one logistic regression per label (:mod:`policytag.training.tfidf`).

A baseline that trains in seconds on the CPU; its folder holds the vocabulary and weights without
pickle. Numerics do not apply: it runs in fp32. With ``tfidf_search`` its settings are chosen by
grouped CV on the training side, and the chosen point's out-of-fold probabilities are handed on
(``FitResult.oof_probs``) so that out-of-fold thresholds need no second round of fits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.config import TrainConfig
from policytag.training.kinds import FitResult, ModelKind, register
from policytag.training.tfidf import (
    TfidfPredictor,
    TfidfSearch,
    TfidfSettings,
    fit_tfidf,
    search_grid,
    search_tfidf,
)

__all__ = ["TfidfKind"]

log = logging.getLogger(__name__)

# load_predictor's options that tune forward passes: TF-IDF has none, so they are accepted and moot.
_MOOT_OPTIONS = frozenset({"device", "batch_size", "token_budget", "shape_buckets"})


def _search(cfg: TrainConfig, split: Split, targets: np.ndarray, taxonomy: Taxonomy) -> TfidfSearch:
    """The config's grid searched by grouped CV on the training side only (never an outer test fold)."""
    grid = search_grid(cfg.tfidf_ngram_grid, cfg.tfidf_c_grid, cfg.tfidf_class_weight_grid)
    log.info("tfidf: choosing among %d settings by %d-fold grouped CV", len(grid), cfg.oof_folds)
    search = search_tfidf(
        split.train,
        targets,
        taxonomy=taxonomy,
        grid=grid,
        folds=cfg.oof_folds,
        seed=cfg.seed,
        floor=cfg.threshold_floor,
        default=cfg.threshold_default,
    )
    log.info("tfidf: chose %s (%s)", search.chosen.as_dict(), search.grouping)
    return search


@register
class TfidfKind(ModelKind):
    name = "tfidf"

    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        targets = np.array([taxonomy.multi_hot(r["labels"]) for r in split.train], dtype=int)
        search = _search(cfg, split, targets, taxonomy) if cfg.tfidf_search else None
        settings = search.chosen if search else TfidfSettings(cfg.tfidf_ngram_max, cfg.tfidf_c, cfg.pos_weight)
        predictor = fit_tfidf(
            [r["text"] for r in split.train], targets, taxonomy=taxonomy, settings=settings, seed=cfg.seed
        )
        n = settings.ngram_max
        base: dict[str, Any] = {
            "kind": "tfidf",
            "name": f"char-1-{n}gram-tfidf",
            "description": f"character 1–{n}-gram TF-IDF with one logistic regression per label (scikit-learn; "
            f"C {settings.c:g}, class weighting {settings.as_dict()['class_weight']}); no pretrained weights",
            "tried": [],
        }
        if search is not None:
            base["search"] = search.record()
        return FitResult(predictor=predictor, base=base, oof_probs=None if search is None else search.oof_probs)

    def card_base_lines(self, base: dict[str, Any]) -> list[str]:
        """The settings' search, when the config asked for one: the method and every point's score."""
        search = base.get("search")
        if not search:
            return []
        lines = [
            f"- Settings chosen by {search['method']}.",
            "",
            "| longest n-gram | C | class weighting | out-of-fold macro-F1 |",
            "|---:|---:|---|---:|",
        ]
        chosen = search["chosen"]
        for row in search["grid"]:
            mark = " (chosen)" if all(row[k] == chosen[k] for k in chosen) else ""
            lines.append(f"| {row['ngram_max']} | {row['c']:g} | {row['class_weight']}{mark} | {row['macro_f1']:.3f} |")
        return lines

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
