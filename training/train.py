"""``policytag train``: from a labelled JSONL to a complete, self-describing model folder.

Example (a TF-IDF baseline in a few seconds):
    >>> from policytag.training.config import TrainConfig
    >>> result = train(TrainConfig(kind="tfidf", output_dir="models/tfidf"))  # doctest: +SKIP
    >>> sorted(p.name for p in result.folder.iterdir())[:3]  # doctest: +SKIP
    ['README.md', 'config.json', 'data.json']
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.core.version import __version__
from policytag.labels.dataset import Split, data_fingerprint, document_split, read_labelled
from policytag.training.config import TrainConfig
from policytag.training.metrics import binarize, multilabel_metrics
from policytag.training.model_card import render_model_card
from policytag.training.model_folder import atomic_folder, write_json
from policytag.training.precision_guard import GUARD_FILE
from policytag.training.predictor import MANIFEST, Predictor
from policytag.training.thresholds import decide, tune_thresholds

__all__ = ["FitResult", "TrainResult", "evaluate_predictor", "fit", "prepare_split", "train"]

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """A trained predictor (thresholds tuned) and what is known about how it was made."""

    predictor: Predictor
    base: dict[str, Any]
    threshold_how: list[str] = field(default_factory=list)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: float | None = None
    device: str = "cpu"
    precision: str = "fp32"


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
    """Train one model of ``cfg.kind`` on ``split`` (no files written but checkpoints)."""
    if not split.train or not split.validation:
        raise ValueError("training needs a non-empty training split and validation split")
    result = _fit_tfidf(cfg, split, taxonomy) if cfg.kind == "tfidf" else _fit_bert(cfg, split, taxonomy, progress)
    result.threshold_how = tune_on_validation(result.predictor, split.validation, cfg)
    return result


def tune_on_validation(predictor: Predictor, validation: list[dict[str, Any]], cfg: TrainConfig) -> list[str]:
    """Set ``predictor.thresholds`` to the per-label F1-optimal ones on ``validation``; returns how each was set."""
    tax = predictor.taxonomy
    probs, _ = predictor.predict_proba([r["text"] for r in validation])
    targets = np.array([tax.multi_hot(r["labels"]) for r in validation])
    thresholds, how = tune_thresholds(probs, targets, floor=cfg.threshold_floor, default=cfg.threshold_default)
    predictor.thresholds = np.array(thresholds)
    return how


def _fit_bert(cfg: TrainConfig, split: Split, taxonomy: Taxonomy, progress: bool) -> FitResult:
    from policytag.training.base_model import resolve_base
    from policytag.training.bert import fit_bert

    base = resolve_base(
        cfg.base_model,
        candidates=cfg.base_candidates,
        scratch_size=cfg.scratch_size,
        train_texts=[r["text"] for r in split.train],
    )
    result = fit_bert(cfg, split, taxonomy, base, progress=progress)
    return FitResult(
        predictor=result.predictor,
        base={"kind": base.kind, "name": base.name, "description": base.description, "tried": list(base.tried)},
        log_history=result.log_history,
        best_epoch=result.best_epoch,
        device=result.device,
        precision=result.precision,
    )


def _fit_tfidf(cfg: TrainConfig, split: Split, taxonomy: Taxonomy) -> FitResult:
    from policytag.training.tfidf import fit_tfidf

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


def evaluate_predictor(predictor: Predictor, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics of ``predictor`` on labelled ``records`` (its own thresholds and decision rule)."""
    preds = predictor.predict([r["text"] for r in records])
    return multilabel_metrics([r["labels"] for r in records], [p.labels for p in preds], predictor.taxonomy)


def train(cfg: TrainConfig, *, taxonomy: Taxonomy | None = None, progress: bool = True) -> TrainResult:
    """Train per ``cfg`` and write the model folder ``cfg.output_dir`` atomically."""
    tax = taxonomy or load_taxonomy()
    records, split = prepare_split(cfg, tax)
    log.info(
        "training %s on %d sentences (%s); validation %s; test %s",
        cfg.kind,
        len(split.train),
        ", ".join(split.docs("train")),
        ", ".join(split.docs("validation")),
        ", ".join(split.docs("test")) or "none",
    )
    result = fit(cfg, split, tax, progress=progress)
    metrics: dict[str, Any] = {"validation": evaluate_predictor(result.predictor, split.validation)}
    metrics["validation"]["note"] = "thresholds were tuned on this split: optimistic"
    metrics["test"] = evaluate_predictor(result.predictor, split.test) if split.test else None
    if _is_main_process():
        write_model(cfg, result, records, split, tax, metrics)
    return TrainResult(folder=Path(cfg.output_dir), metrics=metrics)


def _is_main_process() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"


def write_model(
    cfg: TrainConfig,
    result: FitResult,
    records: list[dict[str, Any]],
    split: Split,
    taxonomy: Taxonomy,
    metrics: dict[str, Any],
) -> Path:
    from policytag.training.plots import plot_cooccurrence, plot_f1, plot_learning_curve

    fingerprint = data_fingerprint(records)
    created = datetime.now(UTC)
    manifest = {
        "format": 1,
        "kind": cfg.kind,
        "name": cfg.model_name,
        "version": f"{created:%Y%m%d%H%M}-{fingerprint[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "policytag_version": __version__,
        "base_model": result.base,
        "max_length": cfg.max_length,
        "device": result.device,
        "precision": result.precision,
        "best_epoch": result.best_epoch,
        "data_fingerprint": fingerprint,
    }
    data = {
        "path": str(cfg.data),
        "fingerprint": fingerprint,
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
    thresholds = {label: float(t) for label, t in zip(taxonomy.ids, result.predictor.thresholds, strict=True)}
    eval_part = split.test or split.validation
    truth = binarize([r["labels"] for r in eval_part], taxonomy)
    probs, _ = result.predictor.predict_proba([r["text"] for r in eval_part])
    predicted = binarize(decide(probs, result.predictor.thresholds, taxonomy), taxonomy)
    part_name = "test" if split.test else "validation"
    guard = None
    if cfg.kind == "bert":
        from policytag.training.bert_predictor import BertPredictor
        from policytag.training.precision_guard import measure_guard

        assert isinstance(result.predictor, BertPredictor)
        # Which fast inference paths keep this model's labels: `--precision auto` reads it.
        guard = measure_guard(
            result.predictor, records, data_path=str(cfg.data), model_version=str(manifest["version"])
        )
    with atomic_folder(cfg.output_dir) as tmp:
        if cfg.kind == "bert":
            from policytag.training.bert_predictor import BertPredictor

            assert isinstance(result.predictor, BertPredictor)
            assert result.predictor.model is not None and result.predictor.tokenizer is not None
            result.predictor.model.save_pretrained(tmp, safe_serialization=True)
            result.predictor.tokenizer.save_pretrained(tmp)
            write_json(tmp / "training_log.json", result.log_history)
            write_json(tmp / GUARD_FILE, guard)
        else:
            from policytag.training.tfidf import TfidfPredictor

            assert isinstance(result.predictor, TfidfPredictor)
            result.predictor.save(tmp)
        write_json(tmp / MANIFEST, manifest)
        write_json(
            tmp / "thresholds.json",
            {
                "thresholds": thresholds,
                "how": dict(zip(taxonomy.ids, result.threshold_how, strict=True)),
                "floor": cfg.threshold_floor,
                "default": cfg.threshold_default,
                "rule": "a category is answered when its probability >= its threshold; 'other' when none is, "
                "never together with a category",
            },
        )
        write_json(tmp / "taxonomy.json", taxonomy.to_dict())
        write_json(tmp / "metrics.json", metrics)
        write_json(tmp / "training_config.json", dataclasses.asdict(cfg))
        write_json(tmp / "data.json", data)
        plots = tmp / "plots"
        plots.mkdir()
        title = f"{cfg.model_name} ({part_name}: {', '.join(split.docs(part_name))})"
        plot_f1(metrics[part_name], taxonomy, plots / "f1_per_label.png", title=title)
        plot_cooccurrence(truth, predicted, taxonomy, plots / "label_cooccurrence.png", title=title)
        if result.log_history:
            plot_learning_curve(result.log_history, plots / "learning_curve.png")
        (tmp / "README.md").write_text(
            render_model_card(
                manifest=manifest,
                data=data,
                metrics=metrics,
                taxonomy=taxonomy,
                thresholds=thresholds,
                config=dataclasses.asdict(cfg),
                guard=guard,
            ),
            encoding="utf-8",
        )
    return Path(cfg.output_dir)
