"""Fine-tuning a BERT for multi-label classification with the transformers ``Trainer``.

What the stock recipe lacks and this adds: positive weights per label in the BCE loss (rare labels
are otherwise learned as "never"), model selection on validation macro-F1 with per-label tuned
thresholds, and early stopping with the best checkpoint restored.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PreTrainedModel,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split, to_dataset
from policytag.training.base_model import BaseModel, scratch_config
from policytag.training.bert_predictor import BertPredictor
from policytag.training.config import TrainConfig
from policytag.training.metrics import multilabel_metrics
from policytag.training.thresholds import decide, tune_thresholds

__all__ = ["BertFit", "build_trainer", "fit_bert", "positive_weights", "resolve_mixed_precision"]

log = logging.getLogger(__name__)


@dataclass
class BertFit:
    predictor: BertPredictor  # thresholds still at the default: the caller tunes them on validation
    log_history: list[dict[str, Any]]
    best_epoch: float | None
    device: str
    mixed_precision: str


def positive_weights(targets: np.ndarray, *, cap: float) -> np.ndarray:
    """negatives/positives per label, clipped to ``[1, cap]``; 1 for a label without positives."""
    pos = targets.sum(axis=0)
    neg = targets.shape[0] - pos
    w = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
    return np.clip(w, 1.0, cap)


def resolve_mixed_precision(requested: str) -> str:
    """The mixed precision of training actually used for ``requested`` ('auto', 'fp32', 'bf16' or 'fp16') here."""
    cuda = torch.cuda.is_available()
    used = requested
    if used == "auto":
        used = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if used in ("bf16", "fp16") and not cuda:
        # Mixed precision training on CPU is slow and changes results; keep CPU runs reproducible.
        log.warning("%s requested without a CUDA GPU: training in fp32", used)
        used = "fp32"
    return used


def _loss(pos_weight: torch.Tensor | None) -> Callable[..., torch.Tensor]:
    def compute_loss(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        w = pos_weight.to(logits.device) if pos_weight is not None else None
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), labels.float().to(logits.device), pos_weight=w
        )

    return compute_loss


def build_model(base: BaseModel, cfg: TrainConfig, taxonomy: Taxonomy) -> PreTrainedModel:
    """The classifier to fine-tune: a scratch BERT of the base's shape, or the base's encoder with a new head."""
    id2label = dict(enumerate(taxonomy.ids))
    label2id = {v: k for k, v in id2label.items()}
    # Any: transformers >= 5.25 types each keyword of from_pretrained; a dict of mixed values matches none.
    common: dict[str, Any] = {
        "num_labels": len(taxonomy),
        "problem_type": "multi_label_classification",
        "id2label": id2label,
        "label2id": label2id,
    }
    if base.is_scratch:
        config = scratch_config(
            base.name, vocab_size=len(base.tokenizer), max_length=cfg.max_length, pad_token_id=0, **common
        )
        return BertForSequenceClassification(config)
    assert base.path is not None
    # A pretrained or `policytag pretrain` base: its encoder is kept, the classification head is new.
    return AutoModelForSequenceClassification.from_pretrained(base.path, **common)


def build_trainer(
    cfg: TrainConfig,
    split: Split,
    taxonomy: Taxonomy,
    base: BaseModel,
    *,
    progress: bool = True,
    **args_overrides: Any,
) -> tuple[Trainer, str]:
    """The Trainer of :func:`fit_bert` (also used by ``benchmarks/train_speed.py``) and the mixed precision it uses."""
    set_seed(cfg.seed)
    tokenizer = base.tokenizer
    model = build_model(base, cfg, taxonomy)
    train_ds, val_ds = _tokenized(split, taxonomy, tokenizer, max_length=cfg.max_length)
    train_targets = np.array(train_ds["labels"], dtype=np.float32)
    pos_weight = (
        torch.tensor(positive_weights(train_targets, cap=cfg.pos_weight_max), dtype=torch.float32)
        if cfg.pos_weight
        else None
    )
    mixed_precision = resolve_mixed_precision(cfg.mixed_precision)
    settings = _training_settings(cfg, base, mixed_precision, progress=progress) | args_overrides
    callbacks: list[TrainerCallback] = [EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience)]
    trainer = Trainer(
        model=model,
        args=TrainingArguments(**settings),
        train_dataset=train_ds,
        eval_dataset=val_ds,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_loss_func=_loss(pos_weight),
        compute_metrics=_validation_metrics(cfg, taxonomy),
        callbacks=callbacks if settings["load_best_model_at_end"] else [],
    )
    return trainer, mixed_precision


def _tokenized(split: Split, taxonomy: Taxonomy, tokenizer: Any, *, max_length: int) -> tuple[Any, Any]:
    """The training and validation datasets, tokenized, with only the columns the model takes."""

    def tokenize(batch: dict[str, list[Any]]) -> Any:
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    keep = {"input_ids", "attention_mask", "token_type_ids", "labels"}
    out = []
    for records in (split.train, split.validation):
        ds = to_dataset(records, taxonomy).map(tokenize, batched=True)
        out.append(ds.remove_columns([c for c in ds.column_names if c not in keep]))
    return out[0], out[1]


def _validation_metrics(cfg: TrainConfig, taxonomy: Taxonomy) -> Callable[[Any], dict[str, float]]:
    """The Trainer's ``compute_metrics``: macro- and micro-F1 with thresholds tuned per label, as the model will be."""

    def compute_metrics(eval_pred: Any) -> dict[str, float]:
        logits, targets = eval_pred.predictions, eval_pred.label_ids
        probs = 1.0 / (1.0 + np.exp(-logits))
        thresholds, _ = tune_thresholds(probs, targets, floor=cfg.threshold_floor, default=cfg.threshold_default)
        truth = [taxonomy.from_multi_hot(row) for row in targets]
        m = multilabel_metrics(truth, decide(probs, thresholds, taxonomy), taxonomy)
        return {"macro_f1": m["macro_f1"], "micro_f1": m["micro_f1"]}

    return compute_metrics


def _training_settings(cfg: TrainConfig, base: BaseModel, mixed_precision: str, *, progress: bool) -> dict[str, Any]:
    """The ``TrainingArguments``: epochs with early stopping on validation macro-F1, the best checkpoint kept."""
    # Weights from our own small MLM pretraining are far from a converged bert-base: they need the scratch rate.
    lr = cfg.learning_rate or (3e-5 if base.kind in ("pretrained", "local") else 5e-4)
    return {
        "output_dir": str(cfg.checkpoints),
        "num_train_epochs": cfg.epochs,
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": max(cfg.batch_size, 32),
        "learning_rate": lr,
        "weight_decay": cfg.weight_decay,
        "warmup_steps": cfg.warmup_ratio,
        "eval_strategy": "epoch",
        "save_strategy": "epoch",
        "logging_strategy": "epoch",
        "save_total_limit": 2,
        "load_best_model_at_end": True,
        "metric_for_best_model": "macro_f1",
        "greater_is_better": True,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "report_to": "none",
        "disable_tqdm": not progress,
        "dataloader_num_workers": 0,
        "ddp_find_unused_parameters": False,  # every parameter takes part in the forward pass
        "use_cpu": not torch.cuda.is_available(),
        "bf16": mixed_precision == "bf16",
        "fp16": mixed_precision == "fp16",
    }


def fit_bert(cfg: TrainConfig, split: Split, taxonomy: Taxonomy, base: BaseModel, *, progress: bool = True) -> BertFit:
    """Train on ``split.train`` with early stopping on ``split.validation``; the best checkpoint is restored."""
    trainer, mixed_precision = build_trainer(cfg, split, taxonomy, base, progress=progress)
    resume_from = None
    if cfg.resume:
        resume_from = get_last_checkpoint(str(cfg.checkpoints)) if cfg.checkpoints.is_dir() else None
        if resume_from is None:
            raise ValueError(f"--resume: no checkpoint in {cfg.checkpoints} to resume from")
        log.info("resuming from %s", resume_from)
    trainer.train(resume_from_checkpoint=resume_from)

    best_epoch = None
    if trainer.state.best_model_checkpoint:
        step = int(trainer.state.best_model_checkpoint.rsplit("-", 1)[-1])
        best_epoch = next((h["epoch"] for h in trainer.state.log_history if h.get("step") == step), None)
    trained = trainer.model
    assert isinstance(trained, PreTrainedModel)
    predictor = BertPredictor(
        taxonomy=taxonomy,
        thresholds=np.full(len(taxonomy), cfg.threshold_default),
        model=trained,
        tokenizer=base.tokenizer,
        max_length=cfg.max_length,
    )
    if trainer.is_world_process_zero() and not cfg.keep_checkpoints:
        shutil.rmtree(cfg.checkpoints, ignore_errors=True)
        with contextlib.suppress(OSError):  # the shared models/.checkpoints folder, once empty
            cfg.checkpoints.parent.rmdir()
    return BertFit(
        predictor=predictor,
        log_history=list(trainer.state.log_history),
        best_epoch=best_epoch,
        device=str(trained.device),
        mixed_precision=mixed_precision,
    )
