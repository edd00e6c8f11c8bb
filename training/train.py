"""``policytag train``: from a labelled JSONL to a complete, self-describing model folder.

The kind (``cfg.kind``, :mod:`policytag.training.kinds`) trains the predictor and writes its own
files; this module does what every kind shares: the split, threshold tuning, metrics, and the
common files of the folder (:mod:`policytag.training.model_folder`), the plots and the card.

Thresholds are tuned on the validation documents (``thresholds: validation``) or on out-of-fold
probabilities of every training sentence (``thresholds: oof``, :mod:`policytag.training.oof`): the
kind is trained on grouped folds of the training side it is given, never on anything else, so an
outer cross-validation's test fold stays unseen. The out-of-fold predictions also feed the error
analysis (:mod:`policytag.training.error_analysis`).

Example (a TF-IDF baseline in a few seconds):
    >>> from policytag.training.config import TrainConfig
    >>> result = train(TrainConfig(kind="tfidf", output_dir="models/tfidf"))  # doctest: +SKIP
    >>> sorted(p.name for p in result.folder.iterdir())[:3]  # doctest: +SKIP
    ['README.md', 'config.json', 'data.json']
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.core.version import __version__
from policytag.labels.dataset import Split, data_fingerprint, document_split, read_labelled
from policytag.training.config import TrainConfig
from policytag.training.cv_figure import read_cv_figure
from policytag.training.error_analysis import confused_pairs, write_error_analysis
from policytag.training.kinds import FitResult, get_kind
from policytag.training.metrics import binarize, multilabel_metrics
from policytag.training.model_card import render_model_card
from policytag.training.model_folder import (
    CARD,
    DATA,
    ERRORS,
    FORMAT,
    MANIFEST,
    METRICS,
    PLOT_CONFUSED_PAIRS,
    PLOT_COOCCURRENCE,
    PLOT_F1,
    PLOT_LEARNING_CURVE,
    PLOTS,
    TAXONOMY,
    THRESHOLDS,
    TRAINING_CONFIG,
    atomic_folder,
    write_json,
)
from policytag.training.oof import grouped_folds, out_of_fold
from policytag.training.predictor_base import Predictor
from policytag.training.thresholds import decide, tune_thresholds

__all__ = [
    "TrainResult",
    "evaluate_predictor",
    "fit",
    "out_of_fold_probs",
    "prepare_split",
    "train",
    "tune_on_oof",
    "write_model",
]

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    folder: Path
    metrics: dict[str, Any]


def prepare_split(cfg: TrainConfig, taxonomy: Taxonomy) -> tuple[list[dict[str, Any]], Split]:
    records = read_labelled(cfg.data, taxonomy)
    split = document_split(
        records, taxonomy, test_docs=cfg.test_docs, validation_docs=cfg.validation_docs, seed=cfg.seed
    )
    if cfg.limit is not None:
        split = dataclasses.replace(split, train=split.train[: cfg.limit])
    return records, split


def fit(cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool = True) -> FitResult:
    """Train one model of ``cfg.kind`` on ``split`` (no files written but checkpoints), thresholds tuned.

    With ``cfg.thresholds`` "oof" the thresholds come from out-of-fold probabilities of ``split.train``
    (the kind's own, when it made them, e.g. in a settings search; else :func:`out_of_fold_probs`); the
    returned predictor is the one trained on the whole of ``split.train``. ``split.test`` is never used.
    """
    if not split.train or not split.validation:
        raise ValueError("training needs a non-empty training split and validation split")
    result = get_kind(cfg.kind).fit(cfg, split, taxonomy, progress=progress)
    if cfg.thresholds == "oof":
        if result.oof_probs is None:
            result.oof_probs = out_of_fold_probs(cfg, split, taxonomy, progress=progress)
        result.threshold_how = tune_on_oof(result.predictor, split.train, result.oof_probs, cfg)
    else:
        result.threshold_how = tune_on_validation(result.predictor, split.validation, cfg)
    return result


def out_of_fold_probs(cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool = True) -> np.ndarray:
    """Probabilities of every ``split.train`` sentence from the kind trained on the other folds of ``split.train``.

    Each inner model keeps ``split.validation`` for early stopping (it is outside ``split.train`` but
    inside the training side), has its own checkpoint folder, and never sees ``split.test``.
    """
    kind = get_kind(cfg.kind)

    def fit_predict(k: int, training_part: list[dict[str, Any]], held_part: list[dict[str, Any]]) -> np.ndarray:
        inner = Split(train=training_part, validation=split.validation, test=[], name=f"oof-{k + 1}")
        inner_cfg = dataclasses.replace(cfg, checkpoint_dir=str(cfg.checkpoints / f"oof-{k + 1}"), resume=False)
        log.info("out-of-fold %d/%d: training on %d sentences", k + 1, cfg.oof_folds, len(training_part))
        predictor = kind.fit(inner_cfg, inner, taxonomy, progress=progress).predictor
        return predictor.predict_proba([r["text"] for r in held_part])[0]

    oof = out_of_fold(split.train, fit_predict, n_labels=len(taxonomy), folds=cfg.oof_folds, seed=cfg.seed)
    return oof.probs


def tune_on_oof(predictor: Predictor, records: list[dict[str, Any]], probs: np.ndarray, cfg: TrainConfig) -> list[str]:
    """Set ``predictor.thresholds`` to the per-label F1-optimal ones on out-of-fold ``probs`` of ``records``."""
    targets = np.array([predictor.taxonomy.multi_hot(r["labels"]) for r in records])
    thresholds, how = tune_thresholds(probs, targets, floor=cfg.threshold_floor, default=cfg.threshold_default)
    predictor.thresholds = np.array(thresholds)
    return how


def tune_on_validation(predictor: Predictor, validation: list[dict[str, Any]], cfg: TrainConfig) -> list[str]:
    """Set ``predictor.thresholds`` to the per-label F1-optimal ones on ``validation``; returns how each was set."""
    tax = predictor.taxonomy
    probs, _ = predictor.predict_proba([r["text"] for r in validation])
    targets = np.array([tax.multi_hot(r["labels"]) for r in validation])
    thresholds, how = tune_thresholds(probs, targets, floor=cfg.threshold_floor, default=cfg.threshold_default)
    predictor.thresholds = np.array(thresholds)
    return how


def evaluate_predictor(predictor: Predictor, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics of ``predictor`` on labelled ``records`` (its own thresholds and decision rule)."""
    preds = predictor.predict([r["text"] for r in records])
    return multilabel_metrics([r["labels"] for r in records], [p.labels for p in preds], predictor.taxonomy)


def _doc_list(docs: Sequence[str], shown: int = 5) -> str:
    """Documents for a log line: all of a few, else a count and the first ``shown`` (the manifest lists all)."""
    if not docs:
        return "none"
    if len(docs) <= shown:
        return ", ".join(docs)
    return f"{len(docs)} documents ({', '.join(docs[:shown])}, ...)"


def train(cfg: TrainConfig, *, taxonomy: Taxonomy | None = None, progress: bool = True) -> TrainResult:
    """Train per ``cfg`` and write the model folder ``cfg.output_dir`` atomically."""
    tax = taxonomy or load_taxonomy()
    # Read first: a wrong report or candidate name fails before minutes of training, not after.
    grouped_cv = read_cv_figure(cfg.cv_report, cfg.cv_candidate) if cfg.cv_report and cfg.cv_candidate else None
    records, split = prepare_split(cfg, tax)
    log.info(
        "training %s on %d sentences of %s; validation %s; test %s",
        cfg.kind,
        len(split.train),
        _doc_list(split.docs("train")),
        _doc_list(split.docs("validation")),
        _doc_list(split.docs("test")),
    )
    result = fit(cfg, split, tax, progress=progress)
    metrics: dict[str, Any] = {"validation": evaluate_predictor(result.predictor, split.validation)}
    metrics["validation"]["note"] = (
        "held out: the thresholds were tuned out of fold on the training documents"
        if cfg.thresholds == "oof"
        else "thresholds were tuned on this split: optimistic"
    )
    metrics["test"] = evaluate_predictor(result.predictor, split.test) if split.test else None
    if result.oof_probs is not None:
        metrics["oof"] = _oof_metrics(cfg, result, split)
    metrics["grouped_cv"] = grouped_cv
    if _is_main_process():
        write_model(cfg, result, records, split, tax, metrics)
    return TrainResult(folder=Path(cfg.output_dir), metrics=metrics)


def _oof_metrics(cfg: TrainConfig, result: FitResult, split: Split) -> dict[str, Any]:
    """Metrics of the out-of-fold predictions of the training sentences, with the model's thresholds."""
    assert result.oof_probs is not None
    tax = result.predictor.taxonomy
    predicted = decide(result.oof_probs, result.predictor.thresholds, tax)
    m = multilabel_metrics([r["labels"] for r in split.train], predicted, tax)
    m["grouping"] = grouped_folds(split.train, folds=cfg.oof_folds, seed=cfg.seed)[1]
    pairs = confused_pairs([r["labels"] for r in split.train], predicted)
    m["confused_pairs"] = [{"predicted": a, "true": b, "count": n} for a, b, n in pairs[:10]]
    m["note"] = (
        "the thresholds were tuned on these same predictions: slightly optimistic"
        if cfg.thresholds == "oof"
        else "with the thresholds tuned on the validation documents"
    )
    return m


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def write_model(
    cfg: TrainConfig,
    result: FitResult,
    records: list[dict[str, Any]],
    split: Split,
    taxonomy: Taxonomy,
    metrics: dict[str, Any],
) -> Path:
    """Write the model folder: the kind's files and what it measured, then the files every kind has."""
    kind = get_kind(cfg.kind)
    manifest = _manifest(cfg, result, data_fingerprint(records)) | {"grouped_cv": metrics.get("grouped_cv")}
    data = _data_record(cfg, records, split)
    thresholds = _thresholds_record(cfg, result, split, taxonomy)
    measured = kind.measure(cfg, result, records, model_version=str(manifest["version"]))
    with atomic_folder(cfg.output_dir) as tmp:
        kind.save(result, tmp)
        for name, content in measured.items():
            write_json(tmp / name, content)
        write_json(tmp / MANIFEST, manifest)
        write_json(tmp / THRESHOLDS, thresholds)
        write_json(tmp / DATA, data)
        write_json(tmp / TAXONOMY, taxonomy.to_dict())
        write_json(tmp / METRICS, metrics)
        write_json(tmp / TRAINING_CONFIG, dataclasses.asdict(cfg))
        plots = _write_plots(tmp / PLOTS, cfg, result, split, metrics)
        errors = _write_errors(tmp, cfg, result, split)
        if errors is not None:
            plots.append(PLOT_CONFUSED_PAIRS)
        card = render_model_card(
            kind=kind,
            manifest=manifest,
            data=data,
            metrics=metrics,
            taxonomy=taxonomy,
            thresholds=thresholds["thresholds"],
            config=dataclasses.asdict(cfg),
            plots=plots,
            measured=measured,
            errors=errors,
            tuned_on=thresholds["tuned_on"],
        )
        (tmp / CARD).write_text(card, encoding="utf-8")
    return Path(cfg.output_dir)


def _manifest(cfg: TrainConfig, result: FitResult, fingerprint: str) -> dict[str, Any]:
    """The folder's manifest: its kind, its name and version (time and data), how it was trained."""
    created = datetime.now(UTC)
    return {
        "format": FORMAT,
        "kind": cfg.kind,
        "name": cfg.model_name,
        "version": f"{created:%Y%m%d%H%M}-{fingerprint[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "policytag_version": __version__,
        "base_model": result.base,
        "max_length": cfg.max_length,
        "device": result.device,
        "mixed_precision": result.mixed_precision,
        "best_epoch": result.best_epoch,
        "data_fingerprint": fingerprint,
    }


def _data_record(cfg: TrainConfig, records: list[dict[str, Any]], split: Split) -> dict[str, Any]:
    """What the model learned from: the file, its fingerprint, and the documents of each split."""
    return {
        "path": str(cfg.data),
        "fingerprint": data_fingerprint(records),
        "fingerprint_method": "sha256 over JSON [id, text, sorted labels] per line, in file order",
        "n_sentences": len(records),
        "docs": sorted({r["doc"] for r in records}),
        "train_docs": split.docs("train"),
        "validation_docs": split.docs("validation"),
        "test_docs": split.docs("test"),
        "n_train": len(split.train),
        "n_validation": len(split.validation),
        "n_test": len(split.test),
        "limit": cfg.limit,
    }


def _thresholds_record(cfg: TrainConfig, result: FitResult, split: Split, taxonomy: Taxonomy) -> dict[str, Any]:
    """The tuned thresholds, how each was set, and the rule that applies them."""
    return {
        "thresholds": {label: float(t) for label, t in zip(taxonomy.ids, result.predictor.thresholds, strict=True)},
        "how": dict(zip(taxonomy.ids, result.threshold_how, strict=True)),
        "tuned_on": _tuned_on(cfg, split),
        "floor": cfg.threshold_floor,
        "default": cfg.threshold_default,
        "rule": "a category is answered when its probability >= its threshold; 'other' when none is, "
        "never together with a category",
    }


def _tuned_on(cfg: TrainConfig, split: Split) -> str:
    if cfg.thresholds == "oof":
        grouping = grouped_folds(split.train, folds=cfg.oof_folds, seed=cfg.seed)[1]
        return f"out-of-fold probabilities of the {len(split.train)} training sentences ({grouping})"
    return f"the {len(split.validation)} sentences of the validation documents"


def _write_errors(folder: Path, cfg: TrainConfig, result: FitResult, split: Split) -> dict[str, Any] | None:
    """``errors.jsonl`` and the confused-pairs plot from the out-of-fold predictions, when there are any."""
    if result.oof_probs is None:
        return None
    return write_error_analysis(
        split.train,
        result.oof_probs,
        result.predictor.thresholds,
        result.predictor.taxonomy,
        errors_path=folder / ERRORS,
        plot_path=folder / PLOTS / PLOT_CONFUSED_PAIRS,
        title=f"{cfg.model_name}: most confused label pairs, out of fold ({len(split.train)} training sentences)",
    )


def _write_plots(folder: Path, cfg: TrainConfig, result: FitResult, split: Split, metrics: dict[str, Any]) -> list[str]:
    """Plot the test split (validation without one) into ``folder``; the names of the files written."""
    # Imported here: matplotlib is needed to write a folder, not to train or load one.
    from policytag.training.plots import plot_cooccurrence, plot_f1, plot_learning_curve

    predictor = result.predictor
    taxonomy = predictor.taxonomy
    part_name = "test" if split.test else "validation"
    part = split.test or split.validation
    truth = binarize([r["labels"] for r in part], taxonomy)
    probs, _ = predictor.predict_proba([r["text"] for r in part])
    predicted = binarize(decide(probs, predictor.thresholds, taxonomy), taxonomy)
    folder.mkdir()
    title = f"{cfg.model_name} ({part_name}: {', '.join(split.docs(part_name))})"
    plot_f1(metrics[part_name], taxonomy, folder / PLOT_F1, title=title)
    plot_cooccurrence(truth, predicted, taxonomy, folder / PLOT_COOCCURRENCE, title=title)
    if not result.log_history:
        return [PLOT_F1, PLOT_COOCCURRENCE]
    plot_learning_curve(result.log_history, folder / PLOT_LEARNING_CURVE)
    return [PLOT_F1, PLOT_COOCCURRENCE, PLOT_LEARNING_CURVE]
