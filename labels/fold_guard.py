"""Cross-validation folds whose two sides share no sentence, not even a reworded one.

Report boilerplate ("坚持以习近平新时代中国特色社会主义思想为指导", "一、主要工作情况") recurs across
localities, so grouping the folds by locality alone still lets a model train on a test sentence that
differs by a comma or a character: the score then rewards memory, not reading. For every fold,
:func:`guarded_folds` finds the sentences outside the test documents that duplicate a test sentence,

* exactly: the same :func:`~policytag.labels.dedup.sentence_key` (equal after normalisation, so other
  punctuation, spaces or traditional characters do not hide a copy), or
* nearly: an estimated Jaccard similarity of character 5-gram shingles (MinHash, found through an LSH
  index) of at least :data:`~policytag.labels.dedup.NEAR_DUPLICATE_THRESHOLD`,

and :meth:`GuardedFold.split` leaves them out before choosing the validation documents, so neither the
training side nor the validation side (early stopping, thresholds) holds a copy of a test sentence.
The test side is never touched: every document is still tested whole, exactly once.

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> long = "全面推进法律援助工作，为困难群众提供法律服务一千余件"
    >>> recs = [{"doc": d, "locality": d, "text": t, "labels": ["legal_aid"]}
    ...         for d, t in [("a", long), ("b", long.replace("一千", "二千")), ("c", "人民调解"), ("d", "行政复议")]]
    >>> fold = guarded_folds(recs, folds=0)[0]
    >>> fold.test_docs, sorted(recs[i]["doc"] for i in fold.dropped)
    (('a',), ['b'])
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split, document_split, locality_fold_docs
from policytag.labels.dedup import NEAR_DUPLICATE_THRESHOLD, NUM_PERM, SCHEME, jaccard, minhash, sentence_key

__all__ = ["DuplicateIndex", "GuardedFold", "fold_test_docs", "guarded_folds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GuardedFold:
    """One fold: its test documents and the other records (by index) that duplicate a test sentence."""

    name: str
    test_docs: tuple[str, ...]
    exact: frozenset[int]
    near: frozenset[int]

    @property
    def dropped(self) -> frozenset[int]:
        return self.exact | self.near

    def split(
        self, records: Sequence[dict[str, Any]], taxonomy: Taxonomy, *, validation_docs: int, seed: int
    ) -> tuple[Split, dict[str, int]]:
        """The fold's split of ``records`` (those it was planned on) without the duplicates, and how many left.

        Validation documents are chosen after the duplicates have gone, so that none is left empty.
        The counts: ``train`` and ``validation`` (where the dropped sentences were), ``exact`` and ``near``.
        """
        dropped = self.dropped
        kept = [r for i, r in enumerate(records) if i not in dropped]
        split = document_split(kept, taxonomy, test_docs=self.test_docs, validation_docs=validation_docs, seed=seed)
        val = set(split.docs("validation"))
        in_val = sum(1 for i in dropped if records[i]["doc"] in val)
        counts = {
            "train": len(dropped) - in_val,
            "validation": in_val,
            "exact": len(self.exact),
            "near": len(self.near),
        }
        return dataclasses.replace(split, name=self.name), counts


class DuplicateIndex:
    """Which records duplicate which: a sentence key per record, and the near-duplicate pairs of keys.

    One MinHash per distinct key and one LSH pass over them, so that planning many folds (one per
    document) costs one index, not one per fold. The LSH proposes candidates; the signatures' own
    Jaccard estimate decides, as in :func:`~policytag.labels.dedup.near_duplicate_groups`.
    """

    def __init__(self, records: Sequence[dict[str, Any]], *, threshold: float = NEAR_DUPLICATE_THRESHOLD) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
        self.threshold = threshold
        self.keys = [sentence_key(r["text"]) for r in records]
        texts: dict[str, str] = {}
        for key, r in zip(self.keys, records, strict=True):
            texts.setdefault(key, r["text"])
        self.near_keys = _near_pairs(texts, threshold)

    def duplicates_of(self, test: set[int]) -> tuple[frozenset[int], frozenset[int]]:
        """The records outside ``test`` that duplicate a record of ``test``: (exact, near)."""
        test_keys = {self.keys[i] for i in test}
        near_keys: set[str] = set().union(*(self.near_keys.get(k, set()) for k in test_keys)) - test_keys
        others = [i for i in range(len(self.keys)) if i not in test]
        exact = frozenset(i for i in others if self.keys[i] in test_keys)
        near = frozenset(i for i in others if self.keys[i] in near_keys)
        return exact, near


def _near_pairs(texts: dict[str, str], threshold: float) -> dict[str, set[str]]:
    """For each key of ``texts`` with a near-duplicate, the other keys whose Jaccard estimate is >= ``threshold``."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    sigs = {k: minhash(t) for k, t in texts.items()}
    hashes = {k: LeanMinHash(seed=1, hashvalues=np.array(s, dtype=np.uint64), scheme=SCHEME) for k, s in sigs.items()}
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for k, h in hashes.items():
            session.insert(k, h)
    pairs: dict[str, set[str]] = {}
    for k, h in hashes.items():
        for other in lsh.query(h):
            if other != k and jaccard(sigs[k], sigs[other]) >= threshold:
                pairs.setdefault(k, set()).add(other)
    return pairs


def fold_test_docs(records: Sequence[dict[str, Any]], *, folds: int, seed: int) -> list[tuple[str, list[str]]]:
    """(name, test documents) of each fold: ``folds`` locality folds, or one document each for ``folds`` 0."""
    if folds:
        return [(f"fold-{k + 1}", d) for k, d in enumerate(locality_fold_docs(records, folds=folds, seed=seed))]
    docs = sorted({r["doc"] for r in records})
    if len(docs) < 3:
        raise ValueError(f"leave-one-document-out needs at least 3 documents, got {len(docs)}")
    return [(d, [d]) for d in docs]


def guarded_folds(
    records: Sequence[dict[str, Any]],
    *,
    folds: int = 5,
    seed: int = 42,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    index: DuplicateIndex | None = None,
) -> list[GuardedFold]:
    """The folds of ``records`` (see :func:`fold_test_docs`), each with the duplicates of its test sentences.

    ``index`` (built on the same ``records``) saves rebuilding it when several plans share the records.
    """
    index = index or DuplicateIndex(records, threshold=threshold)
    if len(index.keys) != len(records):
        raise ValueError(f"the index covers {len(index.keys)} records, not the {len(records)} given")
    plan = []
    for name, docs in fold_test_docs(records, folds=folds, seed=seed):
        chosen = set(docs)
        exact, near = index.duplicates_of({i for i, r in enumerate(records) if r["doc"] in chosen})
        plan.append(GuardedFold(name=name, test_docs=tuple(docs), exact=exact, near=near))
        log.debug("%s: %d exact and %d near duplicates of test sentences left out", name, len(exact), len(near))
    return plan
