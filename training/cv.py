"""Grouped cross-validation: the figure to quote for reports the model has never seen.

By default (``cv_folds`` 5) the folds group by locality, so that every document of one place is on
one side: the score reflects a new place's report, not a new sentence of a known report or another
year of a known office. ``cv_folds`` 0 leaves one document out, for a corpus of a few documents.
Exact and near-duplicates of a fold's test sentences leave its training and validation sides
(:mod:`policytag.labels.fold_guard`): boilerplate recurs across localities.

:func:`run_folds` is the one fold runner: ``policytag cv`` runs one config through it, ``policytag
compare`` (:mod:`policytag.training.compare`) every candidate through the same folds. Thresholds and
early stopping see only a fold's training side (its validation documents are chosen there).
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.labels.dataset import locality_of, read_labelled
from policytag.labels.fold_guard import GuardedFold, guarded_folds
from policytag.training.config import PretrainConfig, TrainConfig
from policytag.training.fold_store import FoldRun, fold_key, load_fold, records_sha256, save_fold
from policytag.training.metrics import multilabel_metrics
from policytag.training.train import fit

__all__ = ["FoldRun", "cross_validate", "grouping", "plan_folds", "run_folds"]

log = logging.getLogger(__name__)


def grouping(folds: int) -> str:
    return f"{folds} folds by locality" if folds else "leave one document out"


def plan_folds(cfg: TrainConfig, taxonomy: Taxonomy) -> tuple[list[dict[str, Any]], list[GuardedFold]]:
    """The records of ``cfg.data`` and their guarded folds (``cfg.cv_folds``, ``cfg.seed``)."""
    records = read_labelled(cfg.data, taxonomy)
    folds = guarded_folds(records, folds=cfg.cv_folds, seed=cfg.seed)
    return records, folds


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
    records, folds = plan_folds(cfg, tax)
    runs = run_folds(cfg, records, folds, tax, split_seed=cfg.seed, pretrain=pretrain, progress=progress)
    pooled = multilabel_metrics([t for r in runs for t in r.truth], [p for r in runs for p in r.predicted], tax)
    return _summary(cfg, [r.record for r in runs], pooled, tax, pretrained=pretrain is not None)


def run_folds(
    cfg: TrainConfig,
    records: Sequence[dict[str, Any]],
    folds: Sequence[GuardedFold],
    taxonomy: Taxonomy,
    *,
    split_seed: int,
    pretrain: PretrainConfig | None = None,
    progress: bool = True,
    store: str | Path | None = None,
) -> list[FoldRun]:
    """Train ``cfg`` on each fold's guarded training side and predict its test documents.

    ``split_seed`` chooses each fold's validation documents (``cfg.validation_docs`` of them), so that
    candidates compared on one plan see the same validation documents when they ask for as many.
    With ``store``, each finished fold is saved in that folder and a fold saved there by an earlier run
    of the same config, records and plan is taken instead of trained (:mod:`policytag.training.fold_store`).
    """
    runs = []
    digest = records_sha256(records) if store is not None else ""
    with tempfile.TemporaryDirectory(prefix="policytag-cv-") as work:
        for k, fold in enumerate(folds, start=1):
            key = fold_key(
                cfg,
                records_sha256=digest,
                test_docs=fold.test_docs,
                left_out=fold.dropped,
                split_seed=split_seed,
                pretrain=pretrain,
            )
            saved = load_fold(store, key) if store is not None else None
            if saved is not None:
                log.info("fold %d/%d  taken from %s (macro-F1 %.3f)", k, len(folds), store, saved.record["macro_f1"])
                runs.append(saved)
                continue
            run = _run_fold(
                k,
                fold,
                records,
                cfg,
                taxonomy,
                work=Path(work),
                split_seed=split_seed,
                pretrain=pretrain,
                progress=progress,
            )
            _log_fold(k, len(folds), run)
            if store is not None:
                save_fold(store, key, run)
            runs.append(run)
    return runs


def _log_fold(k: int, n: int, run: FoldRun) -> None:
    r = run.record
    log.info(
        "fold %d/%d  test %d documents  macro-F1 %.3f  micro-F1 %.3f  (%d duplicates left out, %.0f s)",
        k,
        n,
        len(r["test_docs"]),
        r["macro_f1"],
        r["micro_f1"],
        r["dropped"]["train"] + r["dropped"]["validation"],
        run.seconds,
    )


def _run_fold(
    k: int,
    fold: GuardedFold,
    records: Sequence[dict[str, Any]],
    cfg: TrainConfig,
    tax: Taxonomy,
    *,
    work: Path,
    split_seed: int,
    pretrain: PretrainConfig | None,
    progress: bool,
) -> FoldRun:
    """Train fold ``k`` in ``work`` and score its test documents."""
    start = time.perf_counter()
    split, dropped = fold.split(records, tax, validation_docs=cfg.validation_docs, seed=split_seed)
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
    record = {
        "fold": k,
        "test_docs": test_docs,
        "test_localities": len({locality_of(r) for r in split.test}),
        "validation_docs": split.docs("validation"),
        "n_train": len(split.train),
        "n_test": len(split.test),
        "dropped": dropped,
        "macro_f1": m["macro_f1"],
        "micro_f1": m["micro_f1"],
        "base_model": result.base["description"],
        "best_epoch": result.best_epoch,
        "per_label_f1": {i: m["per_label"][i]["f1"] for i in m["labels_in_macro"]},
    }
    seconds = time.perf_counter() - start
    return FoldRun(record, [r["doc"] for r in split.test], truth, predicted, seconds)


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
        "grouping": grouping(cfg.cv_folds),
        "folds": results,
        "macro_f1_mean": statistics.fmean(macro),
        "macro_f1_std": statistics.stdev(macro) if len(macro) > 1 else 0.0,
        "micro_f1_mean": statistics.fmean(micro),
        "micro_f1_std": statistics.stdev(micro) if len(micro) > 1 else 0.0,
        "pooled": {k: pooled[k] for k in ("macro_f1", "micro_f1", "exact_match", "n")}
        | {"per_label_f1": {i: pooled["per_label"][i]["f1"] for i in tax.ids}},
    }
