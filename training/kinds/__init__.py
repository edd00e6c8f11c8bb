"""The registry of model kinds: what a kind is (:class:`ModelKind`) and :func:`get_kind`, by the manifest's ``kind``.

Each kind is one module of this package that defines a :class:`ModelKind` and decorates it with
:func:`register`; the module's name is the kind's name. Nothing imports the kind modules by name:
:func:`get_kind` imports one on its first lookup, so loading a TF-IDF model never imports torch, and
adding a kind is adding a module (the names come from
:func:`policytag.training.kind_names.kind_names`, which lists the modules).

A kind brings what differs between kinds; the rest of the model folder is common and written by
:func:`policytag.training.train.write_model` (names in :mod:`policytag.training.model_folder`):

- ``fit``: train a predictor on a split (thresholds are tuned afterwards, the same way for all);
- ``measure`` and ``save``: its own files in the folder (weights, vocabulary, a guard measured first);
- ``load``: the predictor of a folder of this kind;
- ``card_base_lines`` and ``card_usage_lines``: its paragraphs of the model card.

Example:
    >>> get_kind("tfidf").name
    'tfidf'
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.config import TrainConfig
from policytag.training.kind_names import check_kind
from policytag.training.predictor_base import Predictor

__all__ = ["FitResult", "ModelKind", "get_kind", "register"]


@dataclass
class FitResult:
    """A trained predictor (thresholds tuned after ``fit``) and what is known about how it was made."""

    predictor: Predictor
    base: dict[str, Any]  # the manifest's base_model: kind, name, description, tried
    threshold_how: list[str] = field(default_factory=list)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: float | None = None
    device: str = "cpu"
    mixed_precision: str = "fp32"  # of training (the manifest's mixed_precision)
    # Out-of-fold probabilities of split.train (rows in its order): set by a kind that already made them
    # (the TF-IDF search), else by train.fit with thresholds "oof"; None with validation thresholds.
    oof_probs: np.ndarray | None = None


class ModelKind(ABC):
    """One model kind: how it trains, which files it adds to the folder, how it loads, what its card says."""

    #: the manifest's ``kind`` and the name of the module that registers it
    name: ClassVar[str]

    @abstractmethod
    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        """Train on ``split.train`` (``split.validation`` for early stopping); no files but checkpoints."""

    def measure(
        self, cfg: TrainConfig, result: FitResult, records: Sequence[dict[str, Any]], *, model_version: str
    ) -> dict[str, Any]:
        """JSON files to add to the folder, by file name, measured on the trained model before it is written."""
        return {}

    @abstractmethod
    def save(self, result: FitResult, folder: Path) -> None:
        """Write the kind's own files (weights and whatever ``load`` needs) into ``folder``."""

    @abstractmethod
    def load(
        self, folder: Path, *, taxonomy: Taxonomy, thresholds: np.ndarray, manifest: dict[str, Any], **options: Any
    ) -> Predictor:
        """The predictor of ``folder``; ``options`` are ``load_predictor``'s (device, batch size, numerics)."""

    def card_base_lines(self, base: dict[str, Any]) -> list[str]:
        """Lines of the card's "Base model" section after the base's description (e.g. a warning)."""
        return []

    def card_usage_lines(self, measured: dict[str, Any]) -> list[str]:
        """Lines of the card after "Loading": other ways to use the folder, what ``measure`` found."""
        return []


_KINDS: dict[str, ModelKind] = {}

K = TypeVar("K", bound=type[ModelKind])


def register(cls: K) -> K:
    """Class decorator: make ``cls`` (a :class:`ModelKind`, defined in the module of its name) a kind."""
    module = cls.__module__.rsplit(".", 1)[-1]
    if cls.name != module:
        # get_kind finds a kind by importing the module of its name: any other name would never be found.
        raise ValueError(f"kind {cls.name!r} must be defined in {__name__}.{cls.name}, not in {cls.__module__}")
    if cls.name in _KINDS:
        raise ValueError(f"model kind {cls.name!r} is registered twice")
    _KINDS[cls.name] = cls()
    return cls


def get_kind(name: object) -> ModelKind:
    """The registered kind ``name``, importing its module on the first lookup."""
    kind = check_kind(name, where="kind")
    if kind not in _KINDS:
        importlib.import_module(f"{__name__}.{kind}")
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"{__name__}.{kind} registers no model kind (decorate its ModelKind with register)") from None
