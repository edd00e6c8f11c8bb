"""Out-of-fold probabilities of a training side: every sentence scored by a model that never saw its group.

Thresholds tuned on a few validation documents follow those documents; tuned on the out-of-fold
probabilities of every training sentence they follow the whole training side, and the error analysis
(:mod:`policytag.training.error_analysis`) gets a fair score for every labelled sentence.

The folds group by locality, as ``policytag cv`` does, so a sentence is scored by a model that saw no
report of its place; a side with fewer localities than folds is grouped by document instead (a
``limit`` run, a small corpus). Groups that share a sentence (the same
:func:`~policytag.labels.dedup.sentence_key`) are merged, so boilerplate repeated across
localities never sits on both sides of a fold; near-duplicates are not merged (the outer folds of
``policytag compare`` guard those). Everything works inside the records it is
given: called on an outer cross-validation fold's training side, it never sees that fold's test
documents.

Example:
    >>> recs = [{"doc": d, "locality": d, "text": f"{d}{i}"} for d in "abcd" for i in range(2)]
    >>> folds, grouping = grouped_folds(recs, folds=2, seed=0)
    >>> sorted(len(f) for f in folds), grouping
    ([4, 4], '2 folds by locality')
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policytag.labels.dataset import locality_of
from policytag.labels.dedup import sentence_key

__all__ = ["FitPredict", "OutOfFold", "grouped_folds", "out_of_fold"]

#: ``fit_predict(k, training_part, held_out_part)``: train on the first, the probabilities of the second.
FitPredict = Callable[[int, list[dict[str, Any]], list[dict[str, Any]]], np.ndarray]


@dataclass(frozen=True)
class OutOfFold:
    """Probabilities of every record (rows in the records' order) and the fold that held each out."""

    probs: np.ndarray
    fold_of: np.ndarray
    grouping: str


def _merge_shared_texts(keys: list[str], records: Sequence[dict[str, Any]]) -> list[str]:
    """``keys`` with every two groups that share a sentence (equal after the dedup normalisation) made one."""
    parent: dict[str, str] = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_group: dict[str, str] = {}
    for key, r in zip(keys, records, strict=True):
        other = first_group.setdefault(sentence_key(str(r["text"])), key)
        a, b = root(key), root(other)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(k) for k in keys]


def _group_keys(records: Sequence[dict[str, Any]], folds: int) -> tuple[list[str], str]:
    """One group per record: its locality, or its document when there are fewer localities than folds."""
    keys = [locality_of(r) for r in records]
    by = "locality"
    if len(set(keys)) < folds:
        keys = [f"doc:{r['doc']}" for r in records]
        by = "document"
    return _merge_shared_texts(keys, records), by


def grouped_folds(records: Sequence[dict[str, Any]], *, folds: int, seed: int) -> tuple[list[np.ndarray], str]:
    """Held-out record indices of each fold, and how they were grouped (e.g. ``"5 folds by locality"``).

    Groups are dealt largest first, each to the fold with the fewest records so far (ties broken by a
    seeded shuffle), so folds are of similar size. With fewer groups than ``folds`` there is one fold
    per group.

    Raises:
        ValueError: fewer than ``folds`` < 2 or the records form a single group.
    """
    if folds < 2:
        raise ValueError(f"out-of-fold predictions need at least 2 folds, got {folds}")
    keys, by = _group_keys(records, folds)
    members: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    if len(members) < 2:
        raise ValueError(f"out-of-fold predictions need at least 2 groups ({by}) in the training side, got 1")
    k = min(folds, len(members))
    order = sorted(members)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(members[g]))  # stable: the shuffle breaks ties between equal sizes
    held: list[list[int]] = [[] for _ in range(k)]
    for g in order:
        smallest = min(range(k), key=lambda i: (len(held[i]), i))
        held[smallest].extend(members[g])
    return [np.array(sorted(h), dtype=int) for h in held], f"{k} folds by {by}"


def out_of_fold(
    records: Sequence[dict[str, Any]], fit_predict: FitPredict, *, n_labels: int, folds: int, seed: int
) -> OutOfFold:
    """Train on all folds but one, score the one left out, for every fold: the records' out-of-fold probabilities."""
    held_out, grouping = grouped_folds(records, folds=folds, seed=seed)
    probs = np.full((len(records), n_labels), np.nan)
    fold_of = np.full(len(records), -1, dtype=int)
    for k, held in enumerate(held_out):
        is_held = np.zeros(len(records), dtype=bool)
        is_held[held] = True
        training_part = [r for r, h in zip(records, is_held, strict=True) if not h]
        held_part = [records[i] for i in held]
        p = np.asarray(fit_predict(k, training_part, held_part), dtype=float)
        if p.shape != (len(held_part), n_labels):
            raise ValueError(f"fold {k}: probabilities {p.shape}, expected {(len(held_part), n_labels)}")
        probs[held] = p
        fold_of[held] = k
    return OutOfFold(probs=probs, fold_of=fold_of, grouping=grouping)
