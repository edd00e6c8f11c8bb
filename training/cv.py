"""Grouped cross-validation: the figure to quote for reports the model has never seen.

By default (``cv_folds`` 5) the folds group by locality, so that every document of one place is on
one side: the score reflects a new place's report, not a new sentence of a known report or another
year of a known office. ``cv_folds`` 0 leaves one document out, for a corpus of a few documents.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import tempfile
from pathlib import Path
from typing import Any

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.labels.dataset import Split, leave_one_document_out, locality_folds, locality_of, read_labelled
from policytag.training.config import PretrainConfig, TrainConfig
from policytag.training.metrics import multilabel_metrics
from policytag.training.train import fit

__all__ = ["cross_validate"]

log = logging.getLogger(__name__)


def cross_validate(
    cfg: TrainConfig,
    *,
    taxonomy: Taxonomy | None = None,
    pretrain: PretrainConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run one fold per group of documents of ``cfg.data`` (see the module's docstring).

    With ``pretrain``, each fold first pretrains a scratch base (MLM) on the corpus without its test document.
    """
    tax = taxonomy or load_taxonomy()
    records = read_labelled(cfg.data, tax)
    if cfg.cv_folds:
        folds = locality_folds(records, tax, folds=cfg.cv_folds, validation_docs=cfg.validation_docs, seed=cfg.seed)
    else:
        folds = leave_one_document_out(records, tax, validation_docs=cfg.validation_docs, seed=cfg.seed)
    results = []
    all_truth: list[list[str]] = []
    all_pred: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="policytag-cv-") as work:
        for k, split in enumerate(folds, start=1):
            fold, truth, predicted = _run_fold(
                k, split, cfg, tax, work=Path(work), pretrain=pretrain, progress=progress
            )
            log.info(
                "fold %d/%d  test %d documents  macro-F1 %.3f  micro-F1 %.3f",
                k,
                len(folds),
                len(fold["test_docs"]),
                fold["macro_f1"],
                fold["micro_f1"],
            )
            results.append(fold)
            all_truth += truth
            all_pred += predicted
    return _summary(cfg, results, multilabel_metrics(all_truth, all_pred, tax), tax, pretrained=pretrain is not None)


def _run_fold(
    k: int,
    split: Split,
    cfg: TrainConfig,
    tax: Taxonomy,
    *,
    work: Path,
    pretrain: PretrainConfig | None,
    progress: bool,
) -> tuple[dict[str, Any], list[list[str]], list[list[str]]]:
    """Train fold ``k`` in ``work`` and score its test documents: the fold's record, true and predicted labels."""
    test_docs = split.docs("test")
    fold_cfg = dataclasses.replace(cfg, checkpoint_dir=str(work / f"ckpt-{k}"), resume=False)
    if cfg.limit is not None:
        split = dataclasses.replace(split, train=split.train[: cfg.limit])
    if pretrain is not None:
        from policytag.training.pretrain import pretrain as run_pretrain

        base_dir = work / f"base-{k}"
        run_pretrain(dataclasses.replace(pretrain, output_dir=str(base_dir), exclude_docs=test_docs), progress=progress)
        fold_cfg = dataclasses.replace(fold_cfg, base_model=str(base_dir))
    result = fit(fold_cfg, split, tax, progress=progress)
    truth = [r["labels"] for r in split.test]
    predicted = [p.labels for p in result.predictor.predict([r["text"] for r in split.test])]
    m = multilabel_metrics(truth, predicted, tax)
    fold = {
        "fold": k,
        "test_docs": test_docs,
        "test_localities": len({locality_of(r) for r in split.test}),
        "validation_docs": split.docs("validation"),
        "n_train": len(split.train),
        "n_test": len(split.test),
        "macro_f1": m["macro_f1"],
        "micro_f1": m["micro_f1"],
        "base_model": result.base["description"],
        "best_epoch": result.best_epoch,
        "per_label_f1": {i: m["per_label"][i]["f1"] for i in m["labels_in_macro"]},
    }
    return fold, truth, predicted


def _summary(
    cfg: TrainConfig, results: list[dict[str, Any]], pooled: dict[str, Any], tax: Taxonomy, *, pretrained: bool
) -> dict[str, Any]:
    """The folds, their mean and spread, and the metrics pooled over every fold's test sentences."""
    macro = [f["macro_f1"] for f in results]
    micro = [f["micro_f1"] for f in results]
    return {
        "kind": cfg.kind,
        "base_model": cfg.base_model,
        "pretrained_per_fold": pretrained,
        "grouping": f"{cfg.cv_folds} folds by locality" if cfg.cv_folds else "leave one document out",
        "folds": results,
        "macro_f1_mean": statistics.fmean(macro),
        "macro_f1_std": statistics.stdev(macro) if len(macro) > 1 else 0.0,
        "micro_f1_mean": statistics.fmean(micro),
        "micro_f1_std": statistics.stdev(micro) if len(micro) > 1 else 0.0,
        "pooled": {k: pooled[k] for k in ("macro_f1", "micro_f1", "exact_match", "n")}
        | {"per_label_f1": {i: pooled["per_label"][i]["f1"] for i in tax.ids}},
    }
