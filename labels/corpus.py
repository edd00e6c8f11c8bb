"""Seed documents → sentence records with provenance.

Each record is ``{"id", "doc", "index", "start", "end", "text"}``: ``doc`` is the file stem,
``start``/``end`` are character offsets into the document text (see :mod:`policytag.labels.documents`)
and ``id`` is ``<doc>:<first 10 hex of sha1(text)>``, so it survives re-splitting elsewhere in
the document; the second and later copies of a sentence inside one document get ``-2``, ``-3``.

:func:`build_corpus` adds two marks that decide what is labelled:

* ``"fragment": true`` on the cut-off last piece of a document that the folder's manifest calls
  ``truncated`` (the opening of a longer page) when it does not end a sentence: not labelled;
* ``"duplicate_of": ID`` on every later copy of a sentence (compared normalised, see
  :func:`policytag.labels.dedup.sentence_key`), and ``"copies": N`` on the first: boilerplate that recurs
  across reports is labelled once, so that no cross-validation fold has it on both sides.

Example:
    >>> from policytag.labels.documents import Document
    >>> [r["id"] for r in sentence_records(Document(doc="d", text="好。好。", encoding="utf-8"))]
    ['d:cba70a4b6e', 'd:cba70a4b6e-2']
    >>> labellable([{"id": "a"}, {"id": "b", "fragment": True}, {"id": "c", "duplicate_of": "a"}])
    [{'id': 'a'}]
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from policytag.core.paths import SEEDS_LAYOUT
from policytag.core.splitter import split_sentences
from policytag.labels.documents import Document, DocumentError, read_document

# A corpus folder holds reports as text or saved web pages; Markdown there is documentation (README.md).
CORPUS_SUFFIXES = (".txt", ".html", ".htm")

__all__ = [
    "CORPUS_SUFFIXES",
    "build_corpus",
    "cut_fragment",
    "document_paths",
    "is_labellable",
    "labellable",
    "sentence_id",
    "sentence_records",
]

# A piece that ends like this ends a sentence; a truncated page's last piece that does not is cut off.
_TERMINAL = re.compile(r"[。！？!?；;”’）)」』】]$")


def sentence_id(doc: str, text: str, occurrence: int = 1) -> str:
    """The stable id of the ``occurrence``-th copy of ``text`` in document ``doc``."""
    base = f"{doc}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}"
    return base if occurrence == 1 else f"{base}-{occurrence}"


def sentence_records(document: Document) -> list[dict[str, Any]]:
    """Split one document into sentence records."""
    seen: Counter[str] = Counter()
    records = []
    for index, s in enumerate(split_sentences(document.text)):
        seen[s.text] += 1
        records.append(
            {
                "id": sentence_id(document.doc, s.text, seen[s.text]),
                "doc": document.doc,
                "index": index,
                "start": s.start,
                "end": s.end,
                "text": s.text,
            }
        )
    return records


def cut_fragment(last_text: str) -> bool:
    """Whether the last piece of a truncated document is cut off mid-sentence."""
    return not _TERMINAL.search(last_text)


def is_labellable(record: dict[str, Any]) -> bool:
    """Whether a sentence record takes labels: it is neither a cut-off fragment nor a later copy of another."""
    return not record.get("fragment") and "duplicate_of" not in record


def labellable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records that take labels (:func:`is_labellable`)."""
    return [r for r in records if is_labellable(r)]


def _mark(records: list[dict[str, Any]], truncated: set[str]) -> None:
    from policytag.labels.dedup import sentence_key  # needs the character table; only corpus building marks

    last: dict[str, dict[str, Any]] = {}
    for r in records:
        last[r["doc"]] = r
    for doc, r in last.items():
        if doc in truncated and cut_fragment(r["text"]):
            r["fragment"] = True
    first: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("fragment"):
            continue
        key = sentence_key(r["text"])
        if key in first:
            r["duplicate_of"] = first[key]["id"]
            first[key]["copies"] = first[key].get("copies", 0) + 1
        else:
            first[key] = r


def document_paths(folder: str | Path) -> list[Path]:
    """The documents in ``folder`` (not recursive), sorted by name."""
    root = Path(folder)
    if not root.is_dir():
        raise DocumentError(f"{root}: not a folder of documents")
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES)


def build_corpus(folder: str | Path, *, progress: bool = False) -> list[dict[str, Any]]:
    """Sentence records of every document in ``folder``; two documents may not share a stem."""
    records: list[dict[str, Any]] = []
    stems: dict[str, Path] = {}
    paths = document_paths(folder)
    if not paths:
        raise DocumentError(f"{folder}: no documents ({', '.join(CORPUS_SUFFIXES)})")
    for path in tqdm(paths, desc="splitting", unit="doc", disable=not progress):
        if path.stem in stems:
            raise DocumentError(f"{path}: same document name as {stems[path.stem]}; sentence ids would clash")
        stems[path.stem] = path
        records.extend(sentence_records(read_document(path)))
    _mark(records, _truncated_docs(Path(folder)))
    return records


def _truncated_docs(folder: Path) -> set[str]:
    from policytag.labels.manifest import read_manifest

    manifest = folder / SEEDS_LAYOUT["manifest"]
    return {row.doc for row in read_manifest(manifest) if row.truncated} if manifest.is_file() else set()
