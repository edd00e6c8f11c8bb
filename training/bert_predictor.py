"""The BERT predictor: fast tokenizer on the whole input, length-bucketed batches, sigmoid scores.

Tokenization happens once per call for all sentences (the Rust tokenizer), outside the forward
passes; batches are cut by :func:`policytag.training.batching.length_batches` within a token budget; the
model runs in the numerics chosen at load time (:mod:`policytag.training.numerics`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from policytag.core.taxonomy import Taxonomy
from policytag.training.batching import batch_shapes, bucket_rows, bucket_width, length_batches
from policytag.training.numerics.choose import NumericsChoice, choose_numerics
from policytag.training.numerics.convert import convert
from policytag.training.numerics.cpu import unavailable_reason
from policytag.training.numerics.guard import applicable_guard
from policytag.training.numerics.memory import release_free_memory
from policytag.training.numerics.openvino import EngineContext
from policytag.training.predictor_base import Predictor

__all__ = ["DEFAULT_TOKEN_BUDGET", "BertPredictor", "pick_device"]

log = logging.getLogger(__name__)

# Padded tokens per forward pass, per numerics path. Measured on the 2-core AVX-512/AMX machines with the
# bert-base shape: fp32 and int8 slow down past about 1,000 tokens (activations leave the caches;
# int8 ran at half speed with 4,096), bf16 was fastest near 2,000.
DEFAULT_TOKEN_BUDGET = {"fp32": 1024, "bf16": 2048, "int8": 1024, "openvino-bf16": 2048, "openvino-int8": 1024}


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
    batch_size: int = 64
    token_budget: int | None = None  # None: DEFAULT_TOKEN_BUDGET of the numerics in use
    shape_buckets: bool = True  # pad batches to a few shapes (policytag.training.batching), warmed up by warm_up()
    numerics_choice: NumericsChoice = field(
        default_factory=lambda: NumericsChoice("fp32", "fp32", "the model as trained")
    )

    def __post_init__(self) -> None:
        if self.model is None or self.tokenizer is None:
            raise ValueError("BertPredictor needs a model and a tokenizer")
        n_out = self.model.config.num_labels
        if n_out != len(self.taxonomy):
            raise ValueError(f"the model has {n_out} outputs but the taxonomy {len(self.taxonomy)} labels")
        if self.batch_size < 1 or (self.token_budget is not None and self.token_budget < 1):
            raise ValueError(f"batch_size ({self.batch_size}) and token_budget ({self.token_budget}) must be >= 1")
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
        batch_size: int = 64,
        token_budget: int | None = None,
        numerics: str = "fp32",
        shape_buckets: bool = True,
    ) -> BertPredictor:
        """Load ``folder`` in ``numerics`` (``auto``: see :mod:`policytag.training.numerics`)."""
        # use_safetensors: refuse pickled weights even if someone drops a .bin into the folder.
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if labels != list(taxonomy.ids):
            raise ValueError(f"{folder}: config.json id2label {labels} does not match taxonomy.json")
        tokenizer = AutoTokenizer.from_pretrained(folder)
        dev = pick_device(device)
        model.to(dev).eval()
        guard, no_guard = applicable_guard(folder, manifest.get("version")) if numerics == "auto" else (None, "")
        model, choice = choose_numerics(
            model,
            requested=numerics,
            device=dev,
            vocab_size=model.config.vocab_size,
            guard=guard,
            no_guard=no_guard,
            context=EngineContext(folder=Path(folder), version=manifest.get("version"), tokenizer=tokenizer),
        )
        release_free_memory()
        log.info("%s: %s", folder, choice.describe())
        return cls(
            taxonomy=taxonomy,
            thresholds=thresholds,
            manifest=manifest,
            model=model,
            tokenizer=tokenizer,
            max_length=int(manifest.get("max_length", 128)),
            batch_size=batch_size,
            token_budget=token_budget,
            shape_buckets=shape_buckets,
            numerics_choice=choice,
        )

    @property
    def numerics_info(self) -> dict[str, Any]:
        return self.numerics_choice.to_dict()

    def on_cpu(self) -> BertPredictor:
        """A copy of this predictor on the CPU (the fast paths and the accuracy guard run there)."""
        assert self.model is not None
        return replace(self, model=copy.deepcopy(self.model).cpu())

    def with_numerics(self, numerics: str) -> BertPredictor:
        """A copy running in ``numerics`` (from this fp32 predictor); for comparing paths."""
        assert self.model is not None
        if self.numerics_choice.used != "fp32":
            raise ValueError(f"convert from the fp32 predictor, not from {self.numerics_choice.used}")
        why = unavailable_reason(numerics, self.device)
        if why is not None and not (numerics == "bf16" and self.device.type == "cpu"):
            # bf16 without native support is slow but exact to bf16 rounding: fine for comparing labels.
            raise ValueError(f"numerics {numerics} are not available on {self.device}: {why}")
        model = convert(self.model, numerics, context=EngineContext(tokenizer=self.tokenizer))
        choice = NumericsChoice(numerics, numerics, "converted for comparison")
        return replace(self, model=model, numerics_choice=choice)

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        assert self.model is not None and self.tokenizer is not None
        # Tokenize the whole input at once (fast tokenizer), then batch by length to cut padding.
        enc = self.tokenizer(list(texts), truncation=False, add_special_tokens=True)
        ids: list[list[int]] = enc["input_ids"]
        truncated = [len(x) > self.max_length for x in ids]
        seqs = [_truncate(x, self.max_length, self.tokenizer.sep_token_id) for x in ids]
        out = np.zeros((len(ids), len(self.taxonomy)), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        batches = length_batches(
            [len(x) for x in seqs],
            token_budget=self._budget(),
            max_batch=self.batch_size,
            shapes=self.shape_buckets,
            max_length=self.max_length,
        )
        for chunk in batches:
            width = len(seqs[chunk[-1]])  # the batch is sorted by length: the last row is the longest
            rows = len(chunk)
            if self.shape_buckets:  # one of the warmed-up shapes; padding rows repeat the first row
                width, rows = bucket_width(width, max_length=self.max_length), bucket_rows(rows)
            input_ids = np.full((rows, width), pad, dtype=np.int64)
            mask = np.zeros((rows, width), dtype=np.int64)
            for r, i in enumerate([*chunk, *[chunk[0]] * (rows - len(chunk))]):
                input_ids[r, : len(seqs[i])] = seqs[i]
                mask[r, : len(seqs[i])] = 1
            out[chunk] = self._forward(input_ids, mask)[: len(chunk)]
        return out, truncated

    def _budget(self) -> int:
        return self.token_budget or DEFAULT_TOKEN_BUDGET[self.numerics_choice.used]

    def _forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        assert self.model is not None
        logits = self.model(
            input_ids=torch.from_numpy(input_ids).to(self.device),
            attention_mask=torch.from_numpy(mask).to(self.device),
        ).logits
        return np.asarray(torch.sigmoid(logits.float()).cpu().numpy())

    @torch.inference_mode()
    def warm_up(self) -> int:
        """One forward pass of every batch shape :meth:`predict_proba` can make; returns how many.

        With ``shape_buckets`` that is a few dozen small passes (kernels built per shape are then built
        before the first request); without, one pass of two sentences.
        """
        if not self.shape_buckets:
            self.predict_proba(["法治政府建设。", "预热"])
            return 1
        assert self.tokenizer is not None
        shapes = batch_shapes(max_length=self.max_length, token_budget=self._budget(), max_batch=self.batch_size)
        filler = self.tokenizer.cls_token_id or 0
        for rows, width in shapes:
            self._forward(np.full((rows, width), filler, dtype=np.int64), np.ones((rows, width), dtype=np.int64))
        return len(shapes)


def _truncate(seq: list[int], max_length: int, sep: int | None) -> list[int]:
    """Cut to ``max_length`` keeping the closing [SEP], as the tokenizer's own truncation would."""
    if len(seq) <= max_length:
        return seq
    return [*seq[: max_length - 1], sep] if sep is not None else seq[:max_length]
