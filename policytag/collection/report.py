"""What a results folder says: label shares per year and per province, top localities, label × year.

:func:`read_results` opens the two Parquet datasets a collection job writes (``sentences/`` and
``documents/``, schemas in :mod:`policytag.collection.schema`) and :func:`build_report` aggregates
them into a :class:`Report`, which :mod:`policytag.collection.charts` draws and
:mod:`policytag.collection.report_page` lays out. Shares are shares of *sentences*: the sentences of a
year that carry a label over all sentences of that year, so a long report weighs more than a short
one, as it does in the text itself.

Only documents with a row in ``documents`` count: a job writes a document's sentences shard first and
its documents shard last, so sentence rows without a document row belong to a shard a killed run did
not finish (they are left out, as the resumed run will redo them). A document without a year or a
province is counted in an ``unknown`` bucket rather than dropped, so the totals always add up.

Example:
    >>> b = Breakdown("year", ("2022", "unknown"), (1, 1), (4, 2), {"mediation": (1, 2)})
    >>> b.share("mediation")
    (0.25, 1.0)
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from policytag.core.taxonomy import OTHER

__all__ = [
    "UNKNOWN",
    "Breakdown",
    "LocalityRank",
    "Report",
    "ResultsTables",
    "build_report",
    "load_report",
    "read_results",
]

UNKNOWN = "unknown"
# The shard files of a table; atomic writes use dot-prefixed temporary names, which this never matches.
SHARD_GLOB = "part-*.parquet"
_DOC_COLUMNS = ("doc_id", "province", "locality", "year", "sentences", "label_share")
_SENT_COLUMNS = ("doc_id", "labels")


@dataclass(frozen=True)
class ResultsTables:
    """The tables of a results folder, as read; ``label_ids`` from the ``label_share`` struct's fields."""

    folder: Path
    sentences: pa.Table
    documents: pa.Table
    label_ids: tuple[str, ...]
    manifest: Mapping[str, Any] = field(default_factory=dict)
    failures: int = 0


def _read_table(folder: Path, name: str, columns: Sequence[str]) -> pa.Table:
    table_dir = folder / name
    if not table_dir.is_dir():
        raise FileNotFoundError(
            f"{table_dir}: no such folder; a results folder of `policytag tag` holds {name}/{SHARD_GLOB}"
        )
    shards = sorted(p for p in table_dir.glob(SHARD_GLOB) if p.is_file())
    if not shards:
        raise FileNotFoundError(f"{table_dir}: no {SHARD_GLOB} files (the {name} table is empty or not written yet)")
    try:
        dataset = ds.dataset([str(p) for p in shards], format="parquet")
        missing = [c for c in columns if c not in dataset.schema.names]
        if missing:
            raise ValueError(f"{table_dir}: not a {name} table of `policytag tag` (no column {missing[0]!r})")
        return dataset.to_table(columns=list(columns))
    except (pa.ArrowInvalid, OSError) as e:
        raise ValueError(f"{table_dir}: unreadable Parquet ({e})") from None


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: invalid JSON ({e})") from None
    return data if isinstance(data, dict) else {}


def _count_failures(folder: Path) -> int:
    path = folder / "errors.jsonl"
    if not path.is_file():
        return 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip())


def read_results(folder: str | Path) -> ResultsTables:
    """The ``sentences`` and ``documents`` tables of ``folder``, its manifest and its failure count.

    Raises:
        FileNotFoundError: the folder, or one of its two tables, is missing (the message names which).
        ValueError: a table is not Parquet of the collection schema.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such results folder (write one with `policytag tag ... --out {root}`)")
    documents = _read_table(root, "documents", _DOC_COLUMNS)
    sentences = _read_table(root, "sentences", _SENT_COLUMNS)
    share_type = documents.schema.field("label_share").type
    if not pa.types.is_struct(share_type):
        raise ValueError(f"{root / 'documents'}: label_share is not a struct of label ids")
    label_ids = tuple(share_type.field(i).name for i in range(share_type.num_fields))
    return ResultsTables(root, sentences, documents, label_ids, _read_manifest(root), _count_failures(root))


@dataclass(frozen=True)
class Breakdown:
    """Documents, sentences and sentences carrying each label, per bucket of one dimension.

    ``buckets`` are in display order (years ascending, provinces by documents), :data:`UNKNOWN` last;
    ``counts[label][i]`` is the number of sentences of bucket ``i`` that carry ``label``.
    """

    dimension: str
    buckets: tuple[str, ...]
    documents: tuple[int, ...]
    sentences: tuple[int, ...]
    counts: Mapping[str, tuple[int, ...]]

    def share(self, label: str) -> tuple[float, ...]:
        """The share of each bucket's sentences that carry ``label`` (0 for a bucket without sentences)."""
        return tuple(c / n if n else 0.0 for c, n in zip(self.counts[label], self.sentences, strict=True))

    def matrix(self, labels: Sequence[str]) -> np.ndarray:
        """Shares as a ``len(labels) × len(buckets)`` array (the label × year heat map)."""
        return np.array([self.share(label) for label in labels], dtype=float).reshape(len(labels), len(self.buckets))

    def rows(self, labels: Sequence[str]) -> list[dict[str, Any]]:
        """One JSON-ready row per bucket: its name, documents, sentences and every label's share."""
        shares = {label: self.share(label) for label in labels}
        return [
            {
                self.dimension: bucket,
                "documents": self.documents[i],
                "sentences": self.sentences[i],
                "share": {label: round(shares[label][i], 6) for label in labels},
            }
            for i, bucket in enumerate(self.buckets)
        ]


@dataclass(frozen=True)
class LocalityRank:
    """A locality's place in a label's ranking: its sentences, those carrying the label, the share."""

    locality: str
    province: str | None
    sentences: int
    count: int
    share: float

    @property
    def name(self) -> str:
        """The locality with its province, as tables and charts show it."""
        return f"{self.locality} ({self.province})" if self.province else self.locality


@dataclass(frozen=True)
class Report:
    """Everything the charts and the page show, computed once from a results folder."""

    folder: Path
    label_ids: tuple[str, ...]
    manifest: Mapping[str, Any]
    failures: int
    documents: int
    sentences: int
    by_year: Breakdown
    by_province: Breakdown
    top_localities: Mapping[str, list[LocalityRank]]
    top: int
    min_sentences: int

    @property
    def model(self) -> dict[str, Any]:
        """The model's name, version and kind from the manifest (its ``model`` object, else its top level)."""
        info = self.manifest.get("model")
        source = info if isinstance(info, Mapping) else self.manifest
        return {k: source[k] for k in ("name", "version", "kind", "folder") if source.get(k) is not None}

    @property
    def chart_labels(self) -> tuple[str, ...]:
        """The policy labels charts draw: all but ``other``, which would flatten every scale."""
        return tuple(i for i in self.label_ids if i != OTHER)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (``report.json`` beside the page)."""
        return {
            "results": str(self.folder),
            "model": self.model,
            "documents": self.documents,
            "sentences": self.sentences,
            "failures": self.failures,
            "labels": list(self.label_ids),
            "by_year": self.by_year.rows(self.label_ids),
            "by_province": self.by_province.rows(self.label_ids),
            "top_localities": {
                label: [{**vars(r), "share": round(r.share, 6)} for r in ranks]
                for label, ranks in self.top_localities.items()
            },
            "top": self.top,
            "min_sentences": self.min_sentences,
        }


@dataclass(frozen=True)
class _Documents:
    """Per document: where and when (bucket keys), its sentences, and its sentences per label."""

    year: dict[str, str]
    province: dict[str, str]
    locality: dict[str, tuple[str | None, str] | None]
    sentences: dict[str, int]
    counts: dict[str, Counter[str]]


def _clean(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _per_document(tables: ResultsTables) -> _Documents:
    docs = tables.documents.to_pydict()
    done = pa.array(docs["doc_id"], type=pa.string())
    sents = tables.sentences.filter(pc.is_in(tables.sentences["doc_id"], value_set=done)).combine_chunks()
    n_by_doc = sents.group_by("doc_id").aggregate([("doc_id", "count")]).to_pydict()
    labels = sents["labels"]
    owners = pc.take(sents["doc_id"], pc.list_parent_indices(labels))
    pairs = pa.table({"doc_id": owners, "label": pc.list_flatten(labels)})
    by_pair = pairs.group_by(["doc_id", "label"]).aggregate([("label", "count")]).to_pydict()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for doc_id, label, n in zip(by_pair["doc_id"], by_pair["label"], by_pair["label_count"], strict=True):
        counts[doc_id][label] = n
    sentences = dict(zip(n_by_doc["doc_id"], n_by_doc["doc_id_count"], strict=True))
    out = _Documents({}, {}, {}, {}, counts)
    for doc_id, year, province, locality in zip(
        docs["doc_id"], docs["year"], docs["province"], docs["locality"], strict=True
    ):
        out.year[doc_id] = str(int(year)) if year is not None else UNKNOWN
        out.province[doc_id] = _clean(province) or UNKNOWN
        place = _clean(locality)
        out.locality[doc_id] = (_clean(province), place) if place else None
        out.sentences[doc_id] = int(sentences.get(doc_id, 0))
    return out


def _year_order(keys: set[str]) -> list[str]:
    return sorted((k for k in keys if k != UNKNOWN), key=int) + ([UNKNOWN] if UNKNOWN in keys else [])


def _size_order(keys: set[str], docs: _Documents, key_of: Mapping[str, str]) -> list[str]:
    size = Counter(key_of[d] for d in docs.sentences)
    known = sorted((k for k in keys if k != UNKNOWN), key=lambda k: (-size[k], k))
    return known + ([UNKNOWN] if UNKNOWN in keys else [])


def _breakdown(
    dimension: str, key_of: Mapping[str, str], order: list[str], docs: _Documents, labels: Sequence[str]
) -> Breakdown:
    index = {k: i for i, k in enumerate(order)}
    n_docs = [0] * len(order)
    n_sents = [0] * len(order)
    counts = {label: [0] * len(order) for label in labels}
    for doc_id, bucket in key_of.items():
        i = index[bucket]
        n_docs[i] += 1
        n_sents[i] += docs.sentences[doc_id]
        for label, n in docs.counts.get(doc_id, Counter()).items():
            if label in counts:
                counts[label][i] += n
    return Breakdown(
        dimension, tuple(order), tuple(n_docs), tuple(n_sents), {label: tuple(c) for label, c in counts.items()}
    )


def _top_localities(
    docs: _Documents, labels: Sequence[str], *, top: int, min_sentences: int
) -> dict[str, list[LocalityRank]]:
    sentences: Counter[tuple[str | None, str]] = Counter()
    counts: dict[str, Counter[tuple[str | None, str]]] = {label: Counter() for label in labels}
    for doc_id, place in docs.locality.items():
        if place is None:
            continue
        sentences[place] += docs.sentences[doc_id]
        for label, n in docs.counts.get(doc_id, Counter()).items():
            if label in counts:
                counts[label][place] += n
    ranked: dict[str, list[LocalityRank]] = {}
    for label in labels:
        ranks = [
            LocalityRank(place[1], place[0], sentences[place], n, n / sentences[place])
            for place, n in counts[label].items()
            if n > 0 and sentences[place] >= min_sentences
        ]
        ranks.sort(key=lambda r: (-r.share, -r.count, r.locality, r.province or ""))
        ranked[label] = ranks[:top]
    return ranked


def build_report(tables: ResultsTables, *, top: int = 5, min_sentences: int = 20) -> Report:
    """Aggregate ``tables``: shares per year and per province, the ``top`` localities of each label.

    A locality enters a label's ranking only with at least ``min_sentences`` sentences, so that a
    three-sentence notice does not top every list with a share of 1.
    """
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    if not isinstance(min_sentences, int) or min_sentences < 1:
        raise ValueError(f"min_sentences must be a positive integer, got {min_sentences!r}")
    docs = _per_document(tables)
    if not docs.sentences:
        raise ValueError(f"{tables.folder / 'documents'}: no documents in the table")
    labels = tables.label_ids
    years = _year_order(set(docs.year.values()))
    provinces = _size_order(set(docs.province.values()), docs, docs.province)
    return Report(
        folder=tables.folder,
        label_ids=labels,
        manifest=dict(tables.manifest),
        failures=tables.failures,
        documents=len(docs.sentences),
        sentences=sum(docs.sentences.values()),
        by_year=_breakdown("year", docs.year, years, docs, labels),
        by_province=_breakdown("province", docs.province, provinces, docs, labels),
        top_localities=_top_localities(docs, labels, top=top, min_sentences=min_sentences),
        top=top,
        min_sentences=min_sentences,
    )


def load_report(folder: str | Path, *, top: int = 5, min_sentences: int = 20) -> Report:
    """:func:`read_results` then :func:`build_report`: the report of a results folder."""
    return build_report(read_results(folder), top=top, min_sentences=min_sentences)
