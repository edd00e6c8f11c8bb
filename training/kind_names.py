"""Which model kinds exist, by name: the modules of :mod:`policytag.training.kinds`, listed without importing them.

The names are what a config's ``kind`` and a manifest's ``kind`` may say, and what ``--kind`` offers.
Listing the modules' file names (as spaCy lists entry points) tells them without loading a kind's
dependencies (torch for BERT), and lets the configuration and the folder contract check a name
without importing the kinds, which themselves import both: :func:`policytag.training.kinds.get_kind`
imports a kind's module on first use.

Example:
    >>> kind_names()
    ('bert', 'distilled', 'ensemble', 'tfidf')
    >>> check_kind("svm", where="kind")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'bert', 'distilled', 'ensemble', 'tfidf', got 'svm'
"""

from __future__ import annotations

import functools
import pkgutil
from pathlib import Path

__all__ = ["KINDS_PACKAGE", "check_kind", "kind_names"]

KINDS_PACKAGE = "policytag.training.kinds"
_KINDS_FOLDER = Path(__file__).with_name("kinds")


@functools.cache
def kind_names() -> tuple[str, ...]:
    """The model kinds, sorted: one per public module of the kinds package."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules([str(_KINDS_FOLDER)]) if not m.name.startswith("_")))


def check_kind(kind: object, *, where: str) -> str:
    """``kind`` if it names a model kind; otherwise a ValueError that starts with ``where`` and lists the kinds."""
    names = kind_names()
    if not isinstance(kind, str) or kind not in names:
        raise ValueError(f"{where} must be one of {', '.join(repr(n) for n in names)}, got {kind!r}")
    return kind
