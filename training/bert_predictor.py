"""The BERT predictor: fast tokenizer on the whole batch, length-sorted batches, sigmoid scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from labels.taxonomy import Taxonomy
from training.predictor import Predictor

__all__ = ["BertPredictor", "pick_device"]


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class BertPredictor(Predictor):
    model: PreTrainedModel | None = None
    tokenizer: PreTrainedTokenizerBase | None = None
    max_length: int = 128
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.model is None or self.tokenizer is None:
            raise ValueError("BertPredictor needs a model and a tokenizer")
        n_out = self.model.config.num_labels
        if n_out != len(self.taxonomy):
            raise ValueError(f"the model has {n_out} outputs but the taxonomy {len(self.taxonomy)} labels")
        self.model.eval()

    @property
    def device(self) -> torch.device:
        assert self.model is not None
        return self.model.device

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        *,
        taxonomy: Taxonomy,
        thresholds: np.ndarray,
        manifest: dict[str, Any],
        device: str | None = None,
        batch_size: int = 32,
    ) -> BertPredictor:
        # use_safetensors: refuse pickled weights even if someone drops a .bin into the folder.
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if labels != list(taxonomy.ids):
            raise ValueError(f"{folder}: config.json id2label {labels} does not match taxonomy.json")
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model.to(pick_device(device))
        return cls(
            taxonomy=taxonomy,
            thresholds=thresholds,
            manifest=manifest,
            model=model,
            tokenizer=tokenizer,
            max_length=int(manifest.get("max_length", 128)),
            batch_size=batch_size,
        )

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        assert self.model is not None and self.tokenizer is not None
        # Tokenize the whole input at once (fast tokenizer), then batch by length to cut padding.
        enc = self.tokenizer(list(texts), truncation=False, add_special_tokens=True)
        ids: list[list[int]] = enc["input_ids"]
        truncated = [len(x) > self.max_length for x in ids]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), len(self.taxonomy)), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        sep = self.tokenizer.sep_token_id
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            seqs = [_truncate(ids[i], self.max_length, sep) for i in chunk]
            width = max(len(s) for s in seqs)
            input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for r, s in enumerate(seqs):
                input_ids[r, : len(s)] = torch.tensor(s)
                mask[r, : len(s)] = 1
            logits = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
            out[chunk] = torch.sigmoid(logits.float()).cpu().numpy()
        return out, truncated


def _truncate(seq: list[int], max_length: int, sep: int | None) -> list[int]:
    """Cut to ``max_length`` keeping the closing [SEP], as the tokenizer's own truncation would."""
    if len(seq) <= max_length:
        return seq
    return [*seq[: max_length - 1], sep] if sep is not None else seq[:max_length]
