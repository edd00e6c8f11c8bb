"""The one place where labelled data is read and split.

* :func:`read_labelled` reads any labelled JSONL (``{"text", "labels", ...}``), validating every
  line against the taxonomy; errors name the file, the line and the field.
* :func:`to_dataset` / :func:`load_dataset_dict` turn records into ``datasets`` objects with a
  ``labels`` column of multi-hot float vectors in taxonomy order (what the Trainer's BCE loss needs).
* :func:`document_split` and :func:`leave_one_document_out` split by document, never by sentence:
  sentences of one report share wording, so a sentence split leaks and flatters every model.
  Validation documents are chosen so that rare labels stay in the training split where possible.
* :func:`locality_folds` groups by locality (the issuing local body: every document of one place is
  in one fold), the figure to quote for a corpus of many documents; records without a
  ``locality`` are grouped by document. :mod:`policytag.labels.fold_guard` then keeps exact and
  near-duplicate sentences of a fold's test side out of its training side.

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()
    >>> recs = [{"id": f"{d}:{i}", "doc": d, "text": "调解", "labels": ["mediation"]} for d in "abc" for i in range(2)]
    >>> split = document_split(recs, tax, test_docs=["c"], validation_docs=1)
    >>> sorted({r["doc"] for r in split.test})
    ['c']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytag.core.jsonl import DataError, iter_jsonl
from policytag.core.paths import find_input
from policytag.core.taxonomy import Taxonomy, check_record_labels

if TYPE_CHECKING:
    import datasets

__all__ = [
    "Split",
    "data_fingerprint",
    "document_split",
    "leave_one_document_out",
    "load_dataset_dict",
    "locality_fold_docs",
    "locality_folds",
    "locality_of",
    "read_labelled",
    "to_dataset",
]


@dataclass(frozen=True)
class Split:
    """Records divided by document into train, validation and test (any of them may be empty)."""

    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    test: list[dict[str, Any]]
    name: str = ""

    def docs(self, part: str) -> list[str]:
        return sorted({r["doc"] for r in getattr(self, part)})


def read_labelled(path: str | Path, taxonomy: Taxonomy, *, require_doc: bool = False) -> list[dict[str, Any]]:
    """Read a labelled JSONL file; each line needs a non-empty ``text`` and valid ``labels``.

    Lines without ``doc`` are given the file stem as their document (or fail with ``require_doc``).
    """
    p = find_input(path)
    records = []
    for line, rec in iter_jsonl(p):
        text = rec.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(p, line, "missing, not a string or empty", field="text")
        labels = taxonomy.sort(check_record_labels(taxonomy, rec, path=p, line=line))
        doc = rec.get("doc")
        if doc is None:
            if require_doc:
                raise DataError(p, line, "missing", field="doc")
            doc = p.stem
        elif not isinstance(doc, str) or not doc:
            raise DataError(p, line, "not a non-empty string", field="doc")
        out = dict(rec)
        out.update(text=text, labels=labels, doc=doc)
        out.setdefault("id", f"{p.stem}:{line}")
        records.append(out)
    if not records:
        raise DataError(p, None, "no labelled lines")
    return records


def data_fingerprint(records: Sequence[dict[str, Any]]) -> str:
    """sha256 over the (id, text, labels) of ``records`` in order: names the training data in model cards."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps([r.get("id"), r["text"], sorted(r["labels"])], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def to_dataset(records: Sequence[dict[str, Any]], taxonomy: Taxonomy) -> datasets.Dataset:
    """A ``datasets.Dataset``: ``id``, ``doc``, ``text``, ``label_ids``, ``labels`` (multi-hot, or ``targets``)."""
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "doc": datasets.Value("string"),
            "text": datasets.Value("string"),
            "label_ids": datasets.Sequence(datasets.Value("string")),
            "labels": datasets.Sequence(datasets.Value("float32"), length=len(taxonomy)),
        }
    )
    rows = {
        "id": [str(r["id"]) for r in records],
        "doc": [str(r["doc"]) for r in records],
        "text": [r["text"] for r in records],
        "label_ids": [list(r["labels"]) for r in records],
        # ``targets`` (per-label probabilities, taxonomy order) stand in for the labels of pseudo-labelled
        # sentences: a distilled student learns the teacher's soft scores (policytag.training.distill).
        "labels": [
            [float(v) for v in r["targets"]] if "targets" in r else taxonomy.multi_hot(r["labels"]) for r in records
        ],
    }
    return datasets.Dataset.from_dict(rows, features=features)


def load_dataset_dict(split: Split, taxonomy: Taxonomy) -> datasets.DatasetDict:
    """The non-empty parts of ``split`` as a ``DatasetDict`` (keys ``train``, ``validation``, ``test``)."""
    import datasets

    parts = {name: getattr(split, name) for name in ("train", "validation", "test")}
    return datasets.DatasetDict({k: to_dataset(v, taxonomy) for k, v in parts.items() if v})


def _label_docs(records: Sequence[dict[str, Any]]) -> dict[str, Counter[str]]:
    per_doc: dict[str, Counter[str]] = {}
    for r in records:
        per_doc.setdefault(r["doc"], Counter()).update(r["labels"])
    return per_doc


def _choose_validation(per_doc: dict[str, Counter[str]], candidates: list[str], n: int, seed: int) -> list[str]:
    """Pick ``n`` validation documents that keep the most labels in training, then cover the most in validation.

    Ties are broken by a seeded shuffle, so the choice is reproducible.
    """
    if n <= 0 or not candidates:
        return []
    if n >= len(candidates):
        raise ValueError(f"asked for {n} validation documents but only {len(candidates)} remain for training")
    all_labels = set().union(*(per_doc[d] for d in candidates))
    order = list(candidates)
    random.Random(seed).shuffle(order)
    combos: Iterator[tuple[str, ...]] = itertools.combinations(order, n)
    # Beyond a few thousand combinations, sample them: the score is cheap but the count explodes.
    combo_list = list(itertools.islice(combos, 5000))

    def score(combo: tuple[str, ...]) -> tuple[int, int]:
        train_labels = set().union(*(per_doc[d] for d in candidates if d not in combo))
        val_labels = set().union(*(per_doc[d] for d in combo))
        return (len(all_labels - train_labels), -len(val_labels))

    best = min(combo_list, key=score)  # min() keeps the first of equal scores: the seeded order decides
    return sorted(best)


def document_split(
    records: Sequence[dict[str, Any]],
    taxonomy: Taxonomy,
    *,
    test_docs: Sequence[str] = (),
    validation_docs: int | Sequence[str] = 1,
    seed: int = 42,
) -> Split:
    """Split ``records`` by document: ``test_docs`` named, validation chosen (or named), the rest train.

    Args:
        test_docs: documents held out for testing.
        validation_docs: a number of documents to choose from the non-test ones (keeping every label
            in training where possible), or the documents themselves.
        seed: breaks ties between equally good validation choices.
    """
    del taxonomy  # labels are already validated; kept for a uniform signature with the other helpers
    per_doc = _label_docs(records)
    unknown = sorted(set(test_docs) - set(per_doc))
    if unknown:
        raise ValueError(f"unknown test documents {unknown}; known: {sorted(per_doc)}")
    remaining = sorted(d for d in per_doc if d not in set(test_docs))
    if isinstance(validation_docs, int):
        val = _choose_validation(per_doc, remaining, validation_docs, seed)
    else:
        val = list(validation_docs)
        bad = sorted(set(val) - set(remaining))
        if bad:
            raise ValueError(f"validation documents {bad} are unknown or also test documents")
    val_set, test_set = set(val), set(test_docs)
    return Split(
        train=[r for r in records if r["doc"] not in val_set and r["doc"] not in test_set],
        validation=[r for r in records if r["doc"] in val_set],
        test=[r for r in records if r["doc"] in test_set],
        name="+".join(sorted(test_set)) or "all",
    )


def leave_one_document_out(
    records: Sequence[dict[str, Any]], taxonomy: Taxonomy, *, validation_docs: int = 1, seed: int = 42
) -> list[Split]:
    """One split per document: that document is the test set, a validation set is chosen from the rest."""
    docs = sorted({r["doc"] for r in records})
    if len(docs) < 2 + validation_docs:
        raise ValueError(f"leave-one-document-out needs at least {2 + validation_docs} documents, got {len(docs)}")
    return [document_split(records, taxonomy, test_docs=[d], validation_docs=validation_docs, seed=seed) for d in docs]


def locality_of(record: dict[str, Any]) -> str:
    """The cross-validation group of a record: its province and locality, or its document without them."""
    loc = record.get("locality")
    return f"{record.get('province', '')}/{loc}" if loc else f"doc:{record['doc']}"


def locality_fold_docs(records: Sequence[dict[str, Any]], *, folds: int = 5, seed: int = 42) -> list[list[str]]:
    """The test documents of ``folds`` locality folds: disjoint groups of whole localities covering every record.

    Localities are dealt to folds largest first, each to the fold with the fewest sentences so far
    (ties broken by a seeded shuffle), so folds are of similar size.
    """
    groups: dict[str, list[str]] = {}
    sizes: Counter[str] = Counter()
    for r in records:
        g = locality_of(r)
        if r["doc"] not in groups.setdefault(g, []):
            groups[g].append(r["doc"])
        sizes[g] += 1
    if len(groups) < folds:
        raise ValueError(f"{folds} locality folds need at least {folds} localities, got {len(groups)}")
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -sizes[g])  # stable: the shuffle breaks ties between equal sizes
    fold_docs: list[list[str]] = [[] for _ in range(folds)]
    fold_size = [0] * folds
    for g in order:
        k = min(range(folds), key=lambda i: (fold_size[i], i))
        fold_docs[k].extend(groups[g])
        fold_size[k] += sizes[g]
    return fold_docs


def locality_folds(
    records: Sequence[dict[str, Any]], taxonomy: Taxonomy, *, folds: int = 5, validation_docs: int = 1, seed: int = 42
) -> list[Split]:
    """``folds`` splits whose test sets are the groups of :func:`locality_fold_docs`.

    Validation documents are chosen from each fold's training side as in :func:`document_split`.
    """
    splits = []
    for k, docs in enumerate(locality_fold_docs(records, folds=folds, seed=seed)):
        split = document_split(records, taxonomy, test_docs=docs, validation_docs=validation_docs, seed=seed)
        splits.append(Split(split.train, split.validation, split.test, name=f"fold-{k + 1}"))
    return splits
