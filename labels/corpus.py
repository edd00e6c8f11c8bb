"""Seed documents → sentence records with provenance.

Each record is ``{"id", "doc", "index", "start", "end", "text"}``: ``doc`` is the file stem,
``start``/``end`` are character offsets into the document text (see :mod:`labels.documents`)
and ``id`` is ``<doc>:<first 10 hex of sha1(text)>``, so it survives re-splitting elsewhere in
the document; the second and later copies of a sentence inside one document get ``-2``, ``-3``.

Example:
    >>> from labels.documents import Document
    >>> [r["id"] for r in sentence_records(Document(doc="d", text="好。好。", encoding="utf-8"))]
    ['d:6ee6d3d1b6-…', ...]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from labels.documents import Document, DocumentError, read_document
from labels.splitter import split_sentences

# A corpus folder holds reports as text or saved web pages; Markdown there is documentation (README.md).
CORPUS_SUFFIXES = (".txt", ".html", ".htm")

__all__ = ["CORPUS_SUFFIXES", "build_corpus", "document_paths", "sentence_id", "sentence_records"]


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
    return records
