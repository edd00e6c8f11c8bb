"""Choosing the base model: a pretrained Chinese BERT where one can be had, else a BERT from scratch.

``resolve_base`` returns a :class:`BaseModel` that says what the base really is; the model card
records it, so a scratch model is never presented as a pretrained one.

Scratch models get a character vocabulary made from their training text, the way
``bert-base-chinese`` tokenizes Chinese (one token per CJK character), plus ASCII letters and
digits (also as ``##`` continuations) so numbers and Latin words do not collapse into ``[UNK]``.

Example:
    >>> tok = scratch_tokenizer(build_vocab(["法律援助。", "调解"]))
    >>> tok.tokenize("法律援助2024")
    ['法', '律', '援', '助', '2', '##0', '##2', '##4']
"""

from __future__ import annotations

import json
import logging
import os
import socket
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from transformers import AutoTokenizer, BertConfig, BertTokenizer, PreTrainedTokenizerBase

from policytag.training.config import SCRATCH_SIZES

__all__ = ["SCRATCH_SHAPES", "BaseModel", "build_vocab", "resolve_base", "scratch_config", "scratch_tokenizer"]

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# The shapes of Google's compact BERTs (Turc et al., 2019) and bert-base: layers, hidden, heads.
SCRATCH_SHAPES: dict[str, tuple[int, int, int]] = {
    "scratch-tiny": (2, 128, 2),
    "scratch-mini": (4, 256, 4),
    "scratch-small": (4, 512, 8),
    "scratch-base": (12, 768, 12),
}


@dataclass(frozen=True)
class BaseModel:
    """The resolved base: where weights come from (``path``, ``None`` for scratch) and what it is."""

    kind: str  # "pretrained" (hub or cache), "local" (a folder), "local-mlm" (`policytag pretrain`), "scratch"
    name: str  # hub name, folder path or scratch size
    tokenizer: PreTrainedTokenizerBase
    path: str | None
    description: str
    tried: tuple[str, ...] = ()

    @property
    def is_scratch(self) -> bool:
        return self.kind == "scratch"


def build_vocab(texts: Iterable[str], *, min_freq: int = 1) -> dict[str, int]:
    """Character vocabulary of ``texts`` (lower-cased, as the tokenizer lower-cases), special tokens first."""
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(ch for ch in t.lower() if not ch.isspace())
    ascii_chars = string.ascii_lowercase + string.digits
    tokens = list(SPECIAL_TOKENS)
    tokens += list(ascii_chars)
    tokens += [f"##{c}" for c in ascii_chars]
    seen = set(tokens)
    for ch, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= min_freq and ch not in seen:
            tokens.append(ch)
            seen.add(ch)
    return {tok: i for i, tok in enumerate(tokens)}


def scratch_tokenizer(vocab: dict[str, int]) -> BertTokenizer:
    """A WordPiece tokenizer over a character vocabulary, Chinese characters split one per token."""
    return BertTokenizer(vocab=vocab, do_lower_case=True, tokenize_chinese_chars=True)


def scratch_config(size: str, *, vocab_size: int, max_length: int, **kwargs: Any) -> BertConfig:
    """A ``BertConfig`` of one of :data:`SCRATCH_SHAPES` for a vocabulary of ``vocab_size``."""
    if size not in SCRATCH_SHAPES:
        raise ValueError(f"unknown scratch size {size!r}; choose one of {', '.join(SCRATCH_SHAPES)}")
    layers, hidden, heads = SCRATCH_SHAPES[size]
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        max_position_embeddings=max(512, max_length),
        **kwargs,
    )


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick connection attempt to the hub; without it each name costs ~45 s of retries offline."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _try_load(name: str, *, local_only: bool) -> PreTrainedTokenizerBase | None:
    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=local_only)
    except (OSError, ValueError) as e:
        log.debug("cannot load %s (local_only=%s): %s", name, local_only, e)
        return None


def resolve_base(
    base_model: str, *, candidates: Iterable[str], scratch_size: str, train_texts: Iterable[str]
) -> BaseModel:
    """Resolve ``base_model`` ('auto', a scratch size, a hub name or a folder) to a :class:`BaseModel`."""
    texts = list(train_texts)
    if base_model in SCRATCH_SIZES:
        return _scratch(base_model, texts, tried=())
    if base_model != "auto":
        if Path(base_model).is_dir():
            tok: PreTrainedTokenizerBase | None = AutoTokenizer.from_pretrained(base_model)
            assert tok is not None
            info = Path(base_model) / "pretraining.json"
            if info.is_file():  # made by `policytag pretrain`: say what it really is
                desc = json.loads(info.read_text(encoding="utf-8"))["base"]
                return BaseModel("local-mlm", base_model, tok, base_model, f"{desc} (folder {base_model})")
            return BaseModel("local", base_model, tok, base_model, f"local model folder {base_model}")
        tok = _try_load(base_model, local_only=True) or (
            _try_load(base_model, local_only=False) if _hub_reachable() else None
        )
        if tok is None:
            raise ValueError(
                f"base model {base_model!r} is neither a folder nor in the local Hugging Face cache, and the hub "
                "cannot be reached; use --base-model auto or scratch-mini to train offline"
            )
        return BaseModel("pretrained", base_model, tok, base_model, f"pretrained {base_model}")
    names = list(candidates)
    for name in names:
        tok = _try_load(name, local_only=True)  # the cache first: no network needed
        if tok is not None:
            return BaseModel("pretrained", name, tok, name, f"pretrained {name} (from the local cache)", tuple(names))
    if _hub_reachable():
        for name in names:
            tok = _try_load(name, local_only=False)
            if tok is not None:
                return BaseModel("pretrained", name, tok, name, f"pretrained {name} (from the hub)", tuple(names))
    return _scratch(scratch_size, texts, tried=tuple(names))


def _scratch(size: str, texts: list[str], *, tried: tuple[str, ...]) -> BaseModel:
    if tried:
        banner = "=" * 78
        log.warning(
            "\n%s\nNO PRETRAINED BASE MODEL: none of %s is in the local cache and the hub cannot be reached.\n"
            "Training a %s BERT FROM SCRATCH with a character vocabulary built from the training text.\n"
            "Expect far weaker results than a fine-tuned pretrained Chinese BERT; the model card says so.\n%s",
            banner,
            ", ".join(tried),
            size,
            banner,
        )
    tok = scratch_tokenizer(build_vocab(texts))
    return BaseModel(
        "scratch",
        size,
        tok,
        None,
        f"{size} BERT trained from scratch (random initialisation, character vocabulary of "
        f"{len(tok)} tokens built from the training text); no pretrained weights",
        tried,
    )
