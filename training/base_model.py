"""Choosing the base model: a pretrained Chinese BERT where one can be had, else a BERT from scratch.

``resolve_base`` returns a :class:`BaseModel` that says what the base really is; the model card
records it, so a scratch model is never presented as a pretrained one.

``--base-model auto`` tries, in order: the hub names of ``base_candidates`` from the local cache
(``local_files_only``: no network needed), the same names from the hub when it can be reached, the
local domain base that ``policytag pretrain`` writes (``models/base``, see :data:`LOCAL_BASE`), and
last a BERT from scratch. It logs which, and the description it returns (the card's) says so.

Scratch models get a character vocabulary the way ``bert-base-chinese`` tokenizes Chinese (one
token per CJK character), plus ASCII letters and digits (also as ``##`` continuations) so numbers
and Latin words do not collapse into ``[UNK]``. It covers the training text, every character of
the unlabelled harvest and GB 2312's common hanzi (:mod:`policytag.training.vocab`).

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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from transformers import AutoTokenizer, BertConfig, BertTokenizer, PreTrainedTokenizerBase

from policytag.core.paths import data_path
from policytag.training.config import SCRATCH_SIZES
from policytag.training.vocab import build_vocab, domain_vocab

__all__ = [
    "LOCAL_BASE",
    "SCRATCH_SHAPES",
    "BaseModel",
    "build_vocab",
    "local_base_problem",
    "resolve_base",
    "scratch_config",
    "scratch_tokenizer",
]

log = logging.getLogger(__name__)

#: Where ``policytag pretrain`` (``make pretrain``) writes the domain base that ``auto`` falls back to.
LOCAL_BASE = "models/base"
#: The manifest of a base written by ``policytag pretrain``.
PRETRAINING_JSON = "pretraining.json"

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
    base_model: str,
    *,
    candidates: Iterable[str],
    scratch_size: str,
    train_texts: Iterable[str],
    local_base: str | Path | None = LOCAL_BASE,
    unlabelled: str | Path | None = None,
) -> BaseModel:
    """Resolve ``base_model`` ('auto', a scratch size, a hub name or a folder) to a :class:`BaseModel`.

    ``local_base`` is the domain base ``auto`` tries after the hub names (``None``: none);
    ``unlabelled`` the harvest whose characters a scratch vocabulary covers (``None``: the kit's).
    """
    texts = list(train_texts)
    if base_model in SCRATCH_SIZES:
        return _announce(_scratch(base_model, texts, tried=(), unlabelled=unlabelled))
    if base_model != "auto":
        return _announce(_named(base_model))
    names = tuple(candidates)
    for name in names:
        tok = _try_load(name, local_only=True)  # the cache first: no network needed
        if tok is not None:
            return _announce(
                BaseModel("pretrained", name, tok, name, f"pretrained {name} (from the local cache)", names)
            )
    if _hub_reachable():
        for name in names:
            tok = _try_load(name, local_only=False)
            if tok is not None:
                return _announce(BaseModel("pretrained", name, tok, name, f"pretrained {name} (from the hub)", names))
    if local_base is not None:
        problem = local_base_problem(local_base)
        if problem is None:
            return _announce(_local_mlm(Path(local_base), tried=names))
        log.info("no local domain base: %s", problem)
    return _announce(_scratch(scratch_size, texts, tried=names, unlabelled=unlabelled))


def _announce(base: BaseModel) -> BaseModel:
    """Say on the console which base was chosen (the scratch fallback also prints its banner)."""
    log.info("base model: %s", base.description)
    return base


def _named(base_model: str) -> BaseModel:
    """A folder or a hub name given by the user: load it or say clearly why not."""
    if Path(base_model).is_dir():
        if (Path(base_model) / PRETRAINING_JSON).is_file():  # made by `policytag pretrain`: say what it really is
            return _local_mlm(Path(base_model), tried=())
        tok: PreTrainedTokenizerBase | None = AutoTokenizer.from_pretrained(base_model)
        assert tok is not None
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


def local_base_problem(folder: str | Path) -> str | None:
    """Why ``folder`` is not a usable base from ``policytag pretrain`` (``None``: it is one)."""
    p = Path(folder)
    if not p.is_dir():
        return f"{p} does not exist (make it with `make pretrain`)"
    missing = [n for n in (PRETRAINING_JSON, "config.json", "model.safetensors") if not (p / n).is_file()]
    if not any((p / n).is_file() for n in ("tokenizer.json", "vocab.txt")):
        missing.append("a tokenizer (tokenizer.json or vocab.txt)")
    if missing:
        return f"{p} lacks {', '.join(missing)}: not a complete base from `policytag pretrain`"
    try:
        info = json.loads((p / PRETRAINING_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"{p / PRETRAINING_JSON}: unreadable ({e})"
    if not isinstance(info, dict) or not isinstance(info.get("base"), str):
        return f"{p / PRETRAINING_JSON}: no 'base' description"
    return None


def _local_mlm(folder: Path, *, tried: tuple[str, ...]) -> BaseModel:
    """The domain base of ``policytag pretrain`` in ``folder``, described as what it is."""
    problem = local_base_problem(folder)
    if problem is not None:
        raise ValueError(problem)
    desc = json.loads((folder / PRETRAINING_JSON).read_text(encoding="utf-8"))["base"]
    tok = AutoTokenizer.from_pretrained(str(folder))
    how = f"local domain base, folder {folder}"
    if tried:
        how += f"; chosen by --base-model auto: none of {', '.join(tried)} is in the local cache or on the hub"
    return BaseModel("local-mlm", str(folder), tok, str(folder), f"{desc} ({how})", tried)


def _default_unlabelled() -> Path | None:
    try:
        return data_path("unlabelled")
    except FileNotFoundError:  # POLICYTAG_DATA names no data folder: the vocabulary says it had no harvest
        return None


def _scratch(size: str, texts: list[str], *, tried: tuple[str, ...], unlabelled: str | Path | None) -> BaseModel:
    if tried:
        banner = "=" * 78
        log.warning(
            "\n%s\nNO PRETRAINED BASE MODEL: none of %s is in the local cache and the hub cannot be reached,\n"
            "and there is no local domain base (%s; `make pretrain` makes one).\n"
            "Training a %s BERT FROM SCRATCH (random weights, character vocabulary of the corpus).\n"
            "Expect far weaker results than a fine-tuned pretrained Chinese BERT; the model card says so.\n%s",
            banner,
            ", ".join(tried),
            LOCAL_BASE,
            size,
            banner,
        )
    vocab, source = domain_vocab(texts, unlabelled=unlabelled if unlabelled is not None else _default_unlabelled())
    tok = scratch_tokenizer(vocab)
    return BaseModel(
        "scratch",
        size,
        tok,
        None,
        f"{size} BERT trained from scratch (random initialisation, no pretrained weights; character vocabulary "
        f"of {source['description']})",
        tried,
    )
