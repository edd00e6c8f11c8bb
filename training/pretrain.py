"""``policytag pretrain``: masked-language-model pretraining of a scratch BERT on the unlabelled harvest.

The output folder (``BertForMaskedLM`` weights as safetensors, the tokenizer, ``pretraining.json``,
a card ``README.md`` and the MLM loss curve ``mlm_loss.png``) is written atomically. ``policytag
train --base-model FOLDER`` accepts it (the encoder is kept, a new classification head is added), and
``--base-model auto`` falls back to it at ``models/base`` when no pretrained Chinese BERT is cached.
The corpus and its exclusions are :mod:`policytag.training.pretrain_corpus`'s; the vocabulary
:mod:`policytag.training.vocab`'s.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from transformers import BertForMaskedLM, DataCollatorForLanguageModeling, Trainer, TrainingArguments, set_seed

from policytag.core.jsonl import read_jsonl
from policytag.core.paths import data_path
from policytag.training.base_model import PRETRAINING_JSON, scratch_config, scratch_tokenizer
from policytag.training.bert import resolve_mixed_precision
from policytag.training.config import PretrainConfig
from policytag.training.model_folder import atomic_folder, write_json
from policytag.training.pretrain_card import LOSS_PNG, plot_mlm_loss, pretraining_card
from policytag.training.pretrain_corpus import PretrainCorpus, read_pretrain_corpus
from policytag.training.vocab import domain_vocab, shown_path

__all__ = ["pretrain", "read_unlabelled"]

log = logging.getLogger(__name__)


def read_unlabelled(sources: list[str], exclude_docs: list[str]) -> list[str]:
    """Sentences of ``sources`` without ``exclude_docs`` (kept for callers of the old reader)."""
    return read_pretrain_corpus(sources, exclude_docs=exclude_docs).texts


def _labelled_docs(cfg: PretrainConfig) -> list[str]:
    """The labelled documents whose pages ``exclude_labelled`` leaves out (none without it)."""
    if not cfg.exclude_labelled:
        return []
    path = Path(cfg.labelled) if cfg.labelled else data_path("gold")
    return sorted({str(r["doc"]) for r in read_jsonl(path) if r.get("doc")})


def _vocabulary(cfg: PretrainConfig, corpus: PretrainCorpus) -> tuple[dict[str, int], dict[str, Any]]:
    """Every character of the corpus, of the labelled text and of the harvest, plus the standard list.

    With exclusions (a cross-validation fold), the excluded documents' labelled sentences and the
    harvest's pages are not read for it: only the corpus already filtered and the other labelled text.
    """
    labelled_path = Path(cfg.labelled) if cfg.labelled else data_path("gold")
    excluded = set(cfg.exclude_docs)
    labelled = [
        r["text"]
        for r in (read_jsonl(labelled_path) if labelled_path.is_file() else [])
        if r.get("doc") not in excluded
    ]
    filtered = bool(cfg.exclude_docs or cfg.exclude_localities)
    harvest = None if filtered else data_path("unlabelled")
    vocab, source = domain_vocab([*corpus.texts, *labelled], unlabelled=harvest, standard=cfg.vocab_standard)
    source["labelled"] = shown_path(labelled_path) if labelled else None
    source["labelled_sentences"] = len(labelled)
    return vocab, source


def _training_arguments(cfg: PretrainConfig, work: str, *, n: int, mixed_precision: str, progress: bool) -> Any:
    steps = math.ceil(n / cfg.batch_size) * cfg.epochs
    return TrainingArguments(
        output_dir=work,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=0.06,
        weight_decay=0.01,
        save_strategy="no",
        # Batches of similar lengths: most sentences are short, and padding each batch to its longest piece
        # would spend most of the time on [PAD].
        train_sampling_strategy="group_by_length",
        logging_strategy="steps",
        logging_steps=max(1, int(steps // 100)),  # about 100 points on the loss curve
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(),
        bf16=mixed_precision == "bf16",
        fp16=mixed_precision == "fp16",
    )


def pretrain(cfg: PretrainConfig, *, progress: bool = True) -> Path:
    """Pretrain a ``cfg.size`` BERT with MLM on ``cfg.corpus`` and write the base folder ``cfg.output_dir``."""
    set_seed(cfg.seed)
    corpus = read_pretrain_corpus(
        cfg.corpus,
        exclude_docs=[*cfg.exclude_docs, *_labelled_docs(cfg)],
        exclude_localities=cfg.exclude_localities,
        piece_chars=cfg.max_length - 2,
        max_sentences=cfg.max_sentences,
        seed=cfg.seed,
    )
    vocab, vocab_source = _vocabulary(cfg, corpus)
    tokenizer = scratch_tokenizer(vocab)
    log.info("pretraining on %d pieces (%d characters); vocabulary %s", len(corpus.texts), corpus.characters,
             vocab_source["description"])  # fmt: skip
    model = BertForMaskedLM(
        scratch_config(cfg.size, vocab_size=len(tokenizer), max_length=cfg.max_length, pad_token_id=0)
    )
    import datasets

    ds = datasets.Dataset.from_dict({"text": corpus.texts}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=cfg.max_length, return_special_tokens_mask=True),
        batched=True,
        remove_columns=["text"],
    )
    mixed_precision = resolve_mixed_precision(cfg.mixed_precision)
    with tempfile.TemporaryDirectory(prefix="policytag-pretrain-") as work:
        args = _training_arguments(cfg, work, n=len(ds), mixed_precision=mixed_precision, progress=progress)
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability, seed=cfg.seed)
        trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=collator, processing_class=tokenizer)
        started = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
    curve = [(int(h["step"]), float(h["loss"])) for h in trainer.state.log_history if "loss" in h]
    info = _manifest(cfg, corpus, vocab_source, curve, mixed_precision=mixed_precision)
    info["training"] = {
        "steps": int(output.global_step),
        "seconds": round(seconds, 1),
        "steps_per_second": round(output.global_step / seconds, 3) if seconds else None,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
    }
    with atomic_folder(cfg.output_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / PRETRAINING_JSON, info)
        plot_mlm_loss(curve, tmp / LOSS_PNG, title=f"{cfg.size} MLM on {corpus.sentences} sentences")
        (tmp / "README.md").write_text(pretraining_card(info), encoding="utf-8")
    log.info("MLM loss %.3f -> %.3f in %d steps (%.0f s); base written to %s", info["mlm_loss_first"],
             info["mlm_loss_last"], output.global_step, seconds, cfg.output_dir)  # fmt: skip
    return Path(cfg.output_dir)


def _tail_mean(values: list[float]) -> float | None:
    """Mean of the last tenth (at least one) of ``values``; ``None`` when there are none."""
    if not values:
        return None
    tail = values[-max(1, len(values) // 10) :]
    return sum(tail) / len(tail)


def _manifest(
    cfg: PretrainConfig,
    corpus: PretrainCorpus,
    vocab: dict[str, Any],
    curve: list[tuple[int, float]],
    *,
    mixed_precision: str,
) -> dict[str, Any]:
    """``pretraining.json``: what the base is (``base``, the card's and the model cards' line) and how it was made."""
    return {
        "base": f"{cfg.size} BERT pretrained from scratch with masked-language modelling on {corpus.sentences} "
        f"sentences of {', '.join(cfg.corpus)} (a local domain base, not a pretrained Chinese BERT)",
        "size": cfg.size,
        "excluded_docs": cfg.exclude_docs,
        "excluded_localities": cfg.exclude_localities,
        "n_sentences": corpus.sentences,
        "corpus": corpus.stats(),
        "vocabulary": vocab,
        "mixed_precision": mixed_precision,
        "mlm_loss_first": curve[0][1] if curve else None,
        # One batch is noisy (batches of one length group differ): the final figure is the mean of the last tenth.
        "mlm_loss_last": _tail_mean([v for _, v in curve]),
        "mlm_loss_last_points": max(1, len(curve) // 10) if curve else 0,
        "mlm_loss_curve": [{"step": s, "loss": round(v, 4)} for s, v in curve],
        "config": dict(cfg.__dict__),
    }
