"""The text ``policytag pretrain`` learns from: sentences of the unlabelled harvest and other sources, with exclusions.

Sources are the harvest's Parquet file (``seeds/unlabelled/pages.parquet``, one row per page), folders
of documents (``.txt``/``.html``) or sentence JSONL files. Pages are split with the kit's splitter
(:func:`policytag.core.splitter.split_sentences`), the same one that made the labelled sentences.

Exclusion (cross-validation pretrains without the test fold): a page is left out when its document
(the harvest's ``seed_file`` without ``.txt``, a folder's file stem, a JSONL record's ``doc``) or its
URL (``url`` or one of ``duplicate_urls``) is in ``exclude_docs``, or its ``locality`` in
``exclude_localities``. Every sentence of the pages left out is then also dropped from the pages kept
(compared as :func:`policytag.labels.dedup.sentence_key` normalises them), so a report re-posted
under another URL, or its boilerplate, cannot bring a test sentence back. Sentences are kept once
(exact duplicates dropped) and sentences longer than the model's input are cut into pieces.

Example:
    >>> chunk("一二三四五", 2)
    ['一二', '三四', '五']
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.core.jsonl import read_jsonl
from policytag.core.paths import find_input
from policytag.core.splitter import split_sentences
from policytag.labels.corpus import build_corpus
from policytag.labels.dedup import sentence_key

__all__ = ["PretrainCorpus", "chunk", "read_pretrain_corpus"]


@dataclass
class PretrainCorpus:
    """The pieces to pretrain on and a record of how they were chosen (for the base's card)."""

    texts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    pages: int = 0
    pages_excluded: int = 0
    sentences_split: int = 0
    sentences_duplicate: int = 0
    sentences_shared_with_excluded: int = 0
    sentences_sampled_out: int = 0
    sentences: int = 0

    @property
    def characters(self) -> int:
        return sum(len(t) for t in self.texts)

    def stats(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "texts"}
        return out | {"pieces": len(self.texts), "characters": self.characters}


@dataclass
class _Page:
    doc: str
    urls: tuple[str, ...]
    locality: str
    sentences: list[str]


def chunk(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [text]


def _parquet_pages(path: Path) -> list[_Page]:
    import pyarrow.parquet as pq

    cols = ["url", "duplicate_urls", "seed_file", "locality", "text"]
    try:
        rows = pq.read_table(path, columns=cols).to_pylist()
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: not an unlabelled corpus with columns {cols} ({e})") from None
    return [
        _Page(
            doc=Path(r["seed_file"]).stem if r["seed_file"] else "",
            urls=tuple(u for u in [r["url"], *(r["duplicate_urls"] or [])] if u),
            locality=r["locality"] or "",
            sentences=[s.text for s in split_sentences(r["text"] or "")],
        )
        for r in rows
    ]


def _record_pages(records: Iterable[dict[str, Any]]) -> list[_Page]:
    pages: dict[str, _Page] = {}
    for r in records:
        doc = str(r.get("doc", ""))
        page = pages.setdefault(doc, _Page(doc, (), str(r.get("locality") or ""), []))
        if r.get("text"):
            page.sentences.append(r["text"])
    return list(pages.values())


def _pages(source: str) -> list[_Page]:
    p = find_input(source)
    if p.suffix == ".parquet":
        return _parquet_pages(p)
    return _record_pages(build_corpus(p) if p.is_dir() else read_jsonl(p))


def _excluded(page: _Page, docs: set[str], localities: set[str]) -> bool:
    return (bool(page.doc) and page.doc in docs) or any(u in docs for u in page.urls) or page.locality in localities


def read_pretrain_corpus(
    sources: list[str],
    *,
    exclude_docs: Iterable[str] = (),
    exclude_localities: Iterable[str] = (),
    exclude_sentences: Iterable[str] = (),
    piece_chars: int = 126,
    max_sentences: int | None = None,
    seed: int = 42,
) -> PretrainCorpus:
    """The sentences of ``sources`` without the excluded pages' (see the module's docstring), in pieces.

    ``exclude_sentences`` (compared as :func:`~policytag.labels.dedup.sentence_key` normalises them) are
    dropped too, before they are cut into pieces (a distilled student's labelled sentences).
    """
    docs, localities = set(exclude_docs), set(exclude_localities) - {""}
    out = PretrainCorpus(sources=list(sources))
    kept: list[str] = []
    banned: set[str] = {sentence_key(s) for s in exclude_sentences}
    for source in sources:
        for page in _pages(source):
            out.pages += 1
            out.sentences_split += len(page.sentences)
            if _excluded(page, docs, localities):
                out.pages_excluded += 1
                banned.update(sentence_key(s) for s in page.sentences)
            else:
                kept += page.sentences
    seen: set[str] = set()
    unique = []
    for s in kept:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    out.sentences_duplicate = len(kept) - len(unique)
    if banned:
        clean = [s for s in unique if sentence_key(s) not in banned]
        out.sentences_shared_with_excluded = len(unique) - len(clean)
        unique = clean
    if max_sentences is not None and len(unique) > max_sentences:
        picked = sorted(random.Random(seed).sample(range(len(unique)), max_sentences))
        out.sentences_sampled_out = len(unique) - max_sentences
        unique = [unique[i] for i in picked]
    out.sentences = len(unique)
    out.texts = [piece for s in unique for piece in chunk(s, piece_chars)]
    if not out.texts:
        raise ValueError(f"no sentences to pretrain on in {sources} (excluding {sorted(docs)}, {sorted(localities)})")
    return out
