"""Typed training configuration: defaults ← YAML file (``--config``) ← command-line flags.

Every field carries its own help text; :func:`add_dataclass_arguments` turns the fields into
``--flags`` so the YAML files and the command line can never drift apart.

Example:
    >>> cfg = TrainConfig(kind="tfidf", output_dir="models/x")
    >>> cfg.kind, cfg.threshold_floor
    ('tfidf', 0.1)
    >>> TrainConfig(epochs=0)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be > 0, got 0
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from policytag.core.deprecation import RenamedFlag, warn_renamed
from policytag.core.paths import data_path, find_input
from policytag.training.kind_names import check_kind, kind_names

__all__ = [
    "PretrainConfig",
    "TrainConfig",
    "add_dataclass_arguments",
    "config_from_args",
    "load_config",
]

SCRATCH_SIZES = ("scratch-tiny", "scratch-mini", "scratch-small", "scratch-base")
DEFAULT_CANDIDATES = ("bert-base-chinese", "hfl/chinese-roberta-wwm-ext")

T = TypeVar("T")

# Fields renamed in this release (old -> new): the old name is still accepted, with a warning, in a
# YAML config and as a flag, for one more release.
RENAMED_FIELDS = {"precision": "mixed_precision"}


def _help(text: str, *, choices: Callable[[], Sequence[str]] | None = None, **kw: Any) -> Any:
    """A field with its ``--flag``'s help; ``choices`` lists the values allowed when the parser is built."""
    return field(metadata={"help": text, "choices": choices}, **kw)


@dataclass
class TrainConfig:
    """What to train, on what, and how. See ``training/configs/default.yaml``."""

    data: str = _help(
        "labelled JSONL to learn from ({text, labels, doc}).", default_factory=lambda: str(data_path("gold"))
    )
    output_dir: str = _help("model folder to write (replaced atomically at the end).", default="models/demo")
    kind: str = _help(
        "model kind, one module each in policytag/training/kinds: e.g. bert, a BERT fine-tuned with the Trainer, "
        "or tfidf, the TF-IDF + logistic-regression baseline.",
        choices=kind_names,
        default="bert",
    )
    base_model: str = _help(
        "hub name or local folder of the base model; 'auto' tries --base-candidates from the cache or the hub "
        "and falls back to --scratch-size; 'scratch-tiny|mini|small|base' builds a BERT from scratch.",
        default="auto",
    )
    base_candidates: list[str] = _help(
        "pretrained Chinese models that 'auto' tries, in order.", default_factory=lambda: list(DEFAULT_CANDIDATES)
    )
    scratch_size: Literal["scratch-tiny", "scratch-mini", "scratch-small", "scratch-base"] = _help(
        "shape of the from-scratch BERT that 'auto' falls back to when no pretrained model can be had.",
        default="scratch-mini",
    )
    validation_docs: int = _help(
        "documents held out for early stopping and threshold tuning (chosen to keep rare labels in training).",
        default=1,
    )
    test_docs: list[str] = _help("documents held out entirely and reported as test metrics.", default_factory=list)
    cv_folds: int = _help(
        "`policytag cv`: folds grouped by locality (every document of one place in one fold); 0 leaves one "
        "document out instead, for corpora of a few documents.",
        default=5,
    )
    max_length: int = _help("longest input in tokens; longer sentences are truncated.", default=128)
    epochs: float = _help("maximum number of epochs (early stopping usually ends sooner).", default=30.0)
    batch_size: int = _help("training batch size per device.", default=16)
    learning_rate: float | None = _help(
        "peak learning rate; default 3e-5 for a pretrained base (hub, cache or folder), 5e-4 for a scratch model "
        "or a base from `policytag pretrain`.",
        default=None,
    )
    weight_decay: float = _help("AdamW weight decay.", default=0.01)
    warmup_ratio: float = _help("share of steps spent warming the learning rate up.", default=0.1)
    pos_weight: bool = _help("weigh each label's positives by negatives/positives in the BCE loss.", default=True)
    pos_weight_max: float = _help("cap on a label's positive weight, so one example cannot dominate.", default=10.0)
    threshold_floor: float = _help("lowest decision threshold a label may be tuned to.", default=0.1)
    threshold_default: float = _help("threshold of labels with no positive example in validation.", default=0.5)
    early_stopping_patience: int = _help("epochs without a better validation macro-F1 before stopping.", default=6)
    seed: int = _help("random seed (data order, initialisation, validation choice).", default=42)
    mixed_precision: Literal["auto", "fp32", "bf16", "fp16"] = _help(
        "mixed precision of training (not the inference numerics): 'auto' uses bf16 (or fp16) on a CUDA GPU, "
        "fp32 on CPU.",
        default="auto",
    )
    resume: bool = _help("continue from the last checkpoint of an interrupted run with the same output.", default=False)
    checkpoint_dir: str | None = _help(
        "where checkpoints go (default: models/.checkpoints/<output name>).", default=None
    )
    keep_checkpoints: bool = _help("keep the checkpoints after a successful run (they allow --resume).", default=False)
    limit: int | None = _help("use only the first N training sentences (quick checks).", default=None)
    name: str | None = _help("model name in the card and the API (default: the output folder's name).", default=None)
    tfidf_ngram_max: int = _help("TF-IDF baseline: longest character n-gram.", default=3)
    tfidf_c: float = _help("TF-IDF baseline: inverse regularisation strength of the logistic regressions.", default=4.0)

    def __post_init__(self) -> None:
        _positive(self, "epochs", "batch_size", "max_length", "pos_weight_max", "tfidf_ngram_max", "tfidf_c")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 < self.threshold_floor < 1.0 or not 0.0 < self.threshold_default < 1.0:
            raise ValueError("threshold_floor and threshold_default must lie strictly between 0 and 1")
        if self.validation_docs < 1:
            raise ValueError("validation_docs must be >= 1: thresholds and early stopping need a validation split")
        if self.cv_folds < 0 or self.cv_folds == 1:
            raise ValueError(f"cv_folds must be 0 (leave one document out) or at least 2, got {self.cv_folds}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        check_kind(self.kind, where="kind")
        if self.scratch_size not in SCRATCH_SIZES:
            raise ValueError(f"scratch_size must be one of {SCRATCH_SIZES}, got {self.scratch_size!r}")

    @property
    def model_name(self) -> str:
        return self.name or Path(self.output_dir).name

    @property
    def checkpoints(self) -> Path:
        if self.checkpoint_dir:
            return Path(self.checkpoint_dir)
        out = Path(self.output_dir)
        return out.parent / ".checkpoints" / out.name


@dataclass
class PretrainConfig:
    """Masked-language-model pretraining of a scratch BERT on unlabelled documents."""

    corpus: list[str] = _help(
        "folders of documents (.txt/.html) or sentence JSONL files to pretrain on.", default_factory=lambda: ["seeds"]
    )
    output_dir: str = _help("folder for the pretrained base (accepted by `train --base-model`).", default="models/base")
    size: Literal["scratch-tiny", "scratch-mini", "scratch-small", "scratch-base"] = _help(
        "shape of the BERT to pretrain.", default="scratch-mini"
    )
    exclude_docs: list[str] = _help("documents to leave out (e.g. a test document).", default_factory=list)
    max_length: int = _help("longest input in tokens.", default=128)
    epochs: float = _help("pretraining epochs.", default=40.0)
    batch_size: int = _help("batch size per device.", default=32)
    learning_rate: float = _help("peak learning rate.", default=1e-3)
    mlm_probability: float = _help("share of tokens masked.", default=0.15)
    seed: int = _help("random seed.", default=42)
    mixed_precision: Literal["auto", "fp32", "bf16", "fp16"] = _help("as for train.", default="auto")

    def __post_init__(self) -> None:
        _positive(self, "epochs", "batch_size", "max_length", "learning_rate")
        if not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must lie in (0, 1), got {self.mlm_probability}")
        if self.size not in SCRATCH_SIZES:
            raise ValueError(f"size must be one of {SCRATCH_SIZES}, got {self.size!r}")


def _positive(obj: Any, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        if v <= 0:
            raise ValueError(f"{n} must be > 0, got {v}")


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one ``--flag`` per field of dataclass ``cls``; unset flags stay absent from the namespace."""
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        tp, optional = _unwrap_optional(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        kw: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": f.metadata.get("help", "")}
        if tp is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif f.metadata.get("choices") is not None:
            kw["choices"] = list(f.metadata["choices"]())
            kw["type"] = tp
        elif get_origin(tp) is Literal:
            kw["choices"] = list(get_args(tp))
        elif get_origin(tp) is list:
            kw["nargs"] = "*"
            kw["type"] = get_args(tp)[0]
        else:
            kw["type"] = tp
        if optional and tp is not bool:
            kw["metavar"] = f.name.upper()
        parser.add_argument(flag, **kw)
        for old in (o for o, new in RENAMED_FIELDS.items() if new == f.name):
            choices = {"choices": kw["choices"]} if "choices" in kw else {}
            parser.add_argument(
                "--" + old.replace("_", "-"),
                dest=f.name,
                default=argparse.SUPPRESS,
                action=RenamedFlag,
                new=flag,
                **choices,
            )


def load_config(cls: type[T], path: str | Path | None = None, **overrides: Any) -> T:
    """``cls`` built from its defaults, then the YAML file at ``path``, then ``overrides``.

    Raises:
        ValueError: the file is not a mapping, names an unknown field, or a value is invalid.
    """
    values: dict[str, Any] = {}
    if path is not None:
        p = find_input(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except OSError as e:
            raise ValueError(f"{p}: cannot read config ({e.strerror})") from None
        except yaml.YAMLError as e:
            raise ValueError(f"{p}: not valid YAML ({e})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{p}: a config must be a mapping of field: value")
        data = _accept_renamed(data, where=p)
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{p}: unknown config fields {unknown}; known: {sorted(known)}")
        values.update(data)
    values.update(overrides)
    try:
        return cls(**values)
    except TypeError as e:
        raise ValueError(str(e)) from None


def _accept_renamed(data: dict[str, Any], *, where: Path) -> dict[str, Any]:
    """``data`` with each field of :data:`RENAMED_FIELDS` under its new name (warning once per field)."""
    out = dict(data)
    for old, new in RENAMED_FIELDS.items():
        if old in out:
            warn_renamed(f"{where}: field '{old}'", f"'{new}'", stacklevel=4)
            if new in out:
                raise ValueError(f"{where}: give '{new}' only, not also the deprecated '{old}'")
            out[new] = out.pop(old)
    return out


def config_from_args(cls: type[T], args: argparse.Namespace) -> T:
    """Build ``cls`` from an argparse namespace filled by :func:`add_dataclass_arguments` (plus ``config``)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    overrides = {k: v for k, v in vars(args).items() if k in names}
    return load_config(cls, getattr(args, "config", None), **overrides)
