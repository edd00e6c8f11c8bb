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
    "sub_config",
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
        "hub name or local folder of the base model; 'auto' tries --base-candidates from the local cache (then "
        "the hub, when it can be reached), then the local domain base models/base (`make pretrain`), and falls "
        "back to --scratch-size; 'scratch-tiny|mini|small|base' builds a BERT from scratch.",
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
    cv_report: str | None = _help(
        "a `policytag compare` report (compare.json) whose grouped-CV figure of --cv-candidate the manifest and "
        "model card quote as what to expect on reports of new places.",
        default=None,
    )
    cv_candidate: str | None = _help("this config's candidate name in --cv-report.", default=None)
    tfidf_ngram_max: int = _help("TF-IDF baseline: longest character n-gram.", default=3)
    tfidf_c: float = _help("TF-IDF baseline: inverse regularisation strength of the logistic regressions.", default=4.0)
    thresholds: Literal["validation", "oof"] = _help(
        "where the per-label thresholds are tuned: 'validation', on the validation documents; 'oof', on out-of-fold "
        "probabilities of every training sentence (--oof-folds grouped folds of the training side), the final model "
        "then trained on the whole training side; 'oof' also writes errors.jsonl (error analysis).",
        default="validation",
    )
    oof_folds: int = _help(
        "folds of the training side, grouped by locality, for --thresholds oof and --tfidf-search.", default=5
    )
    tfidf_search: bool = _help(
        "TF-IDF: choose C, the longest n-gram and the class weighting by grouped CV on the training side "
        "(--oof-folds folds) from the grids below; the choice is recorded in the manifest and card.",
        default=False,
    )
    tfidf_c_grid: list[float] = _help("TF-IDF search: values of C tried.", default_factory=lambda: [1.0, 4.0, 16.0])
    tfidf_ngram_grid: list[int] = _help(
        "TF-IDF search: longest character n-grams tried.", default_factory=lambda: [2, 3, 4]
    )
    tfidf_class_weight_grid: list[str] = _help(
        "TF-IDF search: class weightings tried, 'balanced' and/or 'none'.",
        default_factory=lambda: ["balanced", "none"],
    )
    ensemble_members: list[str] = _help(
        "ensemble: its members, each a model kind (trained with this config's other fields) or a YAML config "
        "(trained as it says, on the ensemble's split); the member's folder is members/<kind or file stem>.",
        default_factory=lambda: ["tfidf", "bert"],
    )
    ensemble_weights: list[float] = _help(
        "ensemble: one weight per member for the average of calibrated probabilities (default: equal).",
        default_factory=list,
    )
    ensemble_calibration: Literal["platt", "isotonic"] = _help(
        "ensemble: per-label map of each member's scores to probabilities, fitted on the validation documents: "
        "'platt' (a logistic curve, two numbers per label) or 'isotonic' (a monotone step curve).",
        default="platt",
    )
    distill_teacher: str = _help(
        "distilled: the teacher that pseudo-labels the unlabelled corpus, a model kind (trained with this config's "
        "fields on the same training documents as the student) or a YAML config; never an ensemble or distilled.",
        default="tfidf",
    )
    distill_corpus: list[str] = _help(
        "distilled: unlabelled sources to pseudo-label (the harvest's Parquet file, folders of documents, sentence "
        "JSONL); pages of documents outside the training side (a CV test fold) are left out, and their sentences.",
        default_factory=lambda: ["seeds/unlabelled/pages.parquet"],
    )
    distill_max_sentences: int = _help(
        "distilled: at most this many pseudo-labelled sentences (a seeded sample) join the labelled ones.",
        default=8000,
    )
    distill_soft: bool = _help(
        "distilled: train on the teacher's probabilities (soft targets, knowledge distillation) instead of its "
        "thresholded labels (hard self-training).",
        default=True,
    )

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
        if (self.cv_report is None) != (self.cv_candidate is None):
            raise ValueError("cv_report and cv_candidate go together: the report, and this config's row in it")
        self._check_oof_and_search()
        self._check_ensemble()
        if self.distill_max_sentences < 1 or not self.distill_corpus:
            raise ValueError("distill_max_sentences must be >= 1 and distill_corpus must name at least one source")
        if self.distill_teacher in ("ensemble", "distilled"):
            raise ValueError(f"distill_teacher must not be {self.distill_teacher!r}: teach with one model of one kind")
        if self.scratch_size not in SCRATCH_SIZES:
            raise ValueError(f"scratch_size must be one of {SCRATCH_SIZES}, got {self.scratch_size!r}")

    def _check_oof_and_search(self) -> None:
        """Reject bad out-of-fold and TF-IDF search settings before any training starts."""
        if self.thresholds not in ("validation", "oof"):
            raise ValueError(f"thresholds must be 'validation' or 'oof', got {self.thresholds!r}")
        if self.oof_folds < 2:
            raise ValueError(f"oof_folds must be at least 2, got {self.oof_folds}")
        if not self.tfidf_c_grid or any(c <= 0 for c in self.tfidf_c_grid):
            raise ValueError(f"tfidf_c_grid must be non-empty values > 0, got {self.tfidf_c_grid}")
        if not self.tfidf_ngram_grid or any(n < 1 for n in self.tfidf_ngram_grid):
            raise ValueError(f"tfidf_ngram_grid must be non-empty values >= 1, got {self.tfidf_ngram_grid}")
        bad = sorted(set(self.tfidf_class_weight_grid) - {"balanced", "none"})
        if not self.tfidf_class_weight_grid or bad:
            grid = self.tfidf_class_weight_grid
            raise ValueError(f"tfidf_class_weight_grid must be non-empty, of 'balanced' and 'none', got {grid}")

    def _check_ensemble(self) -> None:
        """Reject bad ensemble members and weights when the config is made, before any member trains."""
        for i, member in enumerate(self.ensemble_members):
            if member == "ensemble":
                raise ValueError(f"ensemble_members[{i}]: an ensemble cannot be a member of an ensemble")
            if not isinstance(member, str) or not (member.endswith((".yaml", ".yml")) or member in kind_names()):
                kinds = ", ".join(k for k in kind_names() if k != "ensemble")
                raise ValueError(f"ensemble_members[{i}]: {member!r} is neither a model kind ({kinds}) nor a YAML file")
        if not self.ensemble_members:
            raise ValueError("ensemble_members must name at least one member")
        w = self.ensemble_weights
        if w and (len(w) != len(self.ensemble_members) or min(w) < 0 or sum(w) <= 0):
            raise ValueError(
                f"ensemble_weights must be one number >= 0 per member ({len(self.ensemble_members)}), not all 0; "
                f"got {w}"
            )
        if self.ensemble_calibration not in ("platt", "isotonic"):
            raise ValueError(f"ensemble_calibration must be 'platt' or 'isotonic', got {self.ensemble_calibration!r}")

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
    """Masked-language-model pretraining of a scratch BERT on the unlabelled harvest (the domain base)."""

    corpus: list[str] = _help(
        "what to pretrain on: the unlabelled harvest's Parquet file (seeds/unlabelled/pages.parquet), folders of "
        "documents (.txt/.html) or sentence JSONL files; pages are split with the kit's splitter.",
        default_factory=lambda: [str(data_path("unlabelled"))],
    )
    output_dir: str = _help(
        "folder for the pretrained base; `train --base-model auto` uses models/base when no hub model is cached.",
        default="models/base",
    )
    size: Literal["scratch-tiny", "scratch-mini", "scratch-small", "scratch-base"] = _help(
        "shape of the BERT to pretrain.", default="scratch-mini"
    )
    exclude_docs: list[str] = _help(
        "documents (file stems, e.g. a test fold's) or page URLs to leave out; their sentences are also dropped "
        "from every other page.",
        default_factory=list,
    )
    exclude_localities: list[str] = _help(
        "localities whose pages are left out (e.g. a test fold's).", default_factory=list
    )
    exclude_labelled: bool = _help(
        "leave out the pages of every labelled document (the --labelled set's) and the sentences they share with "
        "other pages, so that grouped cross-validation of models fine-tuned on this base never tests on text the "
        "base has read.",
        default=False,
    )
    max_sentences: int | None = _help(
        "pretrain on a random sample of N sentences only (quick checks); default: all.", default=None
    )
    vocab_standard: Literal["gb2312-1", "gb2312", "none"] = _help(
        "standard characters added to the vocabulary besides every character of the corpus and the labelled "
        "text: GB 2312 level 1 (3,755 common hanzi), both levels (6,763), or none.",
        default="gb2312-1",
    )
    max_length: int = _help("longest input in tokens; longer sentences are cut into pieces.", default=128)
    epochs: float = _help("pretraining epochs.", default=40.0)
    batch_size: int = _help("batch size per device.", default=32)
    learning_rate: float = _help("peak learning rate.", default=1e-3)
    mlm_probability: float = _help("share of tokens masked.", default=0.15)
    seed: int = _help("random seed.", default=42)
    mixed_precision: Literal["auto", "fp32", "bf16", "fp16"] = _help("as for train.", default="auto")
    labelled: str | None = _help(
        "labelled JSONL whose characters the vocabulary also covers (default: the gold set; its text is not "
        "pretrained on unless a --corpus source holds it).",
        default=None,
    )

    def __post_init__(self) -> None:
        _positive(self, "epochs", "batch_size", "max_length", "learning_rate")
        if not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must lie in (0, 1), got {self.mlm_probability}")
        if self.size not in SCRATCH_SIZES:
            raise ValueError(f"size must be one of {SCRATCH_SIZES}, got {self.size!r}")
        if self.max_sentences is not None and self.max_sentences < 1:
            raise ValueError(f"max_sentences must be >= 1, got {self.max_sentences}")
        if self.vocab_standard not in ("gb2312-1", "gb2312", "none"):
            raise ValueError(f"vocab_standard must be gb2312-1, gb2312 or none, got {self.vocab_standard!r}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be >= 8, got {self.max_length}")
        if not self.corpus:
            raise ValueError("corpus must name at least one source")


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


# Fields a model trained inside another (an ensemble's member, a distilled model's teacher) takes from the outer
# config even when a YAML file describes it: they define the data and the split it trains on.
SHARED_SPLIT_FIELDS = ("data", "validation_docs", "test_docs", "seed", "limit", "threshold_floor", "threshold_default")


def sub_config(cfg: TrainConfig, spec: str, **place: Any) -> TrainConfig:
    """The config of a model trained inside ``cfg``'s: ``spec`` is a kind name or a YAML config file.

    A kind name trains with ``cfg``'s own fields (the kind replaced); a YAML file trains as it says but on
    ``cfg``'s data and split (:data:`SHARED_SPLIT_FIELDS`). ``place`` sets ``output_dir``, ``checkpoint_dir``
    and ``name`` of the inner model.
    """
    if spec.endswith((".yaml", ".yml")):
        shared = {k: getattr(cfg, k) for k in SHARED_SPLIT_FIELDS}
        return load_config(TrainConfig, spec, **shared, **place)
    return dataclasses.replace(cfg, kind=spec, **place)
