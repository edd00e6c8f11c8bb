"""``policytag pretrain``: masked-language-model pretraining of a scratch BERT on unlabelled text.

The output folder (``BertForMaskedLM`` weights and the tokenizer) is accepted by
``policytag train --base-model FOLDER``: the encoder is kept, a new classification head is added.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformers import BertForMaskedLM, DataCollatorForLanguageModeling, Trainer, TrainingArguments, set_seed

from policytag.core.jsonl import read_jsonl
from policytag.core.paths import find_input
from policytag.labels.corpus import build_corpus
from policytag.training.base_model import build_vocab, scratch_config, scratch_tokenizer
from policytag.training.bert import resolve_mixed_precision
from policytag.training.config import PretrainConfig
from policytag.training.model_folder import atomic_folder, write_json

__all__ = ["pretrain", "read_unlabelled"]

log = logging.getLogger(__name__)


def read_unlabelled(sources: list[str], exclude_docs: list[str]) -> list[str]:
    """Sentences from folders of documents (split with the shared splitter) or sentence JSONL files."""
    texts: list[str] = []
    for src in sources:
        p = find_input(src)
        rows: list[dict[str, Any]] = build_corpus(p) if p.is_dir() else read_jsonl(p)
        texts += [r["text"] for r in rows if r.get("doc") not in exclude_docs and r.get("text")]
    if not texts:
        raise ValueError(f"no sentences to pretrain on in {sources} (excluding {exclude_docs})")
    return texts


def pretrain(cfg: PretrainConfig, *, progress: bool = True) -> Path:
    set_seed(cfg.seed)
    texts = read_unlabelled(cfg.corpus, cfg.exclude_docs)
    tokenizer = scratch_tokenizer(build_vocab(texts))
    config = scratch_config(cfg.size, vocab_size=len(tokenizer), max_length=cfg.max_length, pad_token_id=0)
    model = BertForMaskedLM(config)
    import datasets

    ds = datasets.Dataset.from_dict({"text": texts}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=cfg.max_length, return_special_tokens_mask=True),
        batched=True,
        remove_columns=["text"],
    )
    mixed_precision = resolve_mixed_precision(cfg.mixed_precision)
    with tempfile.TemporaryDirectory(prefix="policytag-pretrain-") as work:
        args = TrainingArguments(
            output_dir=work,
            num_train_epochs=cfg.epochs,
            per_device_train_batch_size=cfg.batch_size,
            learning_rate=cfg.learning_rate,
            warmup_steps=0.06,
            weight_decay=0.01,
            save_strategy="no",
            logging_strategy="epoch",
            report_to="none",
            seed=cfg.seed,
            disable_tqdm=not progress,
            use_cpu=not torch.cuda.is_available(),
            bf16=mixed_precision == "bf16",
            fp16=mixed_precision == "fp16",
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=ds,
            data_collator=DataCollatorForLanguageModeling(
                tokenizer, mlm_probability=cfg.mlm_probability, seed=cfg.seed
            ),
            processing_class=tokenizer,
        )
        trainer.train()
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        with atomic_folder(cfg.output_dir) as tmp:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            write_json(
                tmp / "pretraining.json",
                {
                    "base": f"{cfg.size} BERT pretrained from scratch with masked-language modelling on "
                    f"{len(texts)} sentences of {', '.join(cfg.corpus)}",
                    "excluded_docs": cfg.exclude_docs,
                    "n_sentences": len(texts),
                    "mixed_precision": mixed_precision,
                    "mlm_loss_first_epoch": losses[0] if losses else None,
                    "mlm_loss_last_epoch": losses[-1] if losses else None,
                    "config": cfg.__dict__,
                },
            )
    log.info("MLM loss %.3f -> %.3f; base written to %s", losses[0], losses[-1], cfg.output_dir)
    return Path(cfg.output_dir)
