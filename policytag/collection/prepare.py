"""One document made ready for the model: read, split into sentences with offsets, described.

:func:`prepare_document` is the CPU-side step of a collection job (the local engine runs it on worker
processes, the Ray engine in ``map_batches`` on CPU workers); the model side only sees
:attr:`PreparedDocument.model_texts`. Offsets always point into :attr:`PreparedDocument.text`, the
extracted text, so ``doc.text[s.start:s.end] == s.text`` for every sentence; the model may read a
normalised copy (traditional characters as simplified) of each sentence instead.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp, "r.txt")
    ...     _ = path.write_text("某县2022年法治政府建设年度报告\\n推進法治政府建設。", encoding="utf-8")
    ...     doc = prepare_document(path)
    >>> doc.locality, doc.year, doc.model_texts[1], doc.sentences[1].text
    ('某县', 2022, '推进法治政府建设。', '推進法治政府建設。')
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policytag.collection.metadata import read_metadata
from policytag.core.splitter import Sentence, split_sentences
from policytag.labels.documents import DocumentError, decode_document, read_bytes
from policytag.labels.documents.chinese import needs_simplifying, to_simplified

__all__ = ["PreparedDocument", "ReadFailure", "prepare_document", "prepare_many"]


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document ready for tagging; ``doc_id`` is the first 16 hex digits of ``sha256`` (of the file's bytes)."""

    doc_id: str
    source_path: str
    sha256: str
    format: str
    title: str | None
    text: str
    sentences: tuple[Sentence, ...]
    model_texts: tuple[str, ...]
    province: str | None
    locality: str | None
    year: int | None
    warnings: tuple[str, ...]


def prepare_document(path: str | Path, *, normalize: bool = True) -> PreparedDocument:
    """Read ``path`` (any format :mod:`policytag.labels.documents` reads) and split it.

    The file is read once: its sha256 (the document's identity for resuming) is of the same bytes that
    are decoded. With ``normalize``, the model reads each sentence with traditional characters made
    simplified (:func:`~policytag.labels.documents.chinese.to_simplified`); without, the sentence itself.

    Raises:
        policytag.labels.documents.DocumentError: unreadable, empty, binary, or a PDF without a text layer,
            or no sentences; the message names the file and the reason.
    """
    p = Path(path)
    data = read_bytes(p)
    sha256 = hashlib.sha256(data).hexdigest()
    doc = decode_document(data, name=str(p))
    sentences = tuple(split_sentences(doc.text))
    if not sentences:
        raise DocumentError(f"{p}: no sentences")
    model_texts = tuple(s.text for s in sentences)
    if normalize and needs_simplifying(doc.text):  # one pass over the document spares most sentences the table
        model_texts = tuple(to_simplified(t) for t in model_texts)
    facts = read_metadata(doc.title, doc.text)
    return PreparedDocument(
        doc_id=sha256[:16],
        source_path=str(p),
        sha256=sha256,
        format=doc.format,
        title=doc.title,
        text=doc.text,
        sentences=sentences,
        model_texts=model_texts,
        province=facts.province,
        locality=facts.locality,
        year=facts.year,
        warnings=doc.warnings,
    )


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """Why a file of :func:`prepare_many` could not be read (the reader's message, or the exception's)."""

    reason: str


def prepare_many(
    paths: Sequence[str | Path],
    *,
    normalize: bool = True,
    reader: Callable[..., PreparedDocument] = prepare_document,
) -> list[PreparedDocument | ReadFailure]:
    """:func:`prepare_document` of each path, a file that cannot be read becoming a :class:`ReadFailure`.

    One task of a reading worker: several files a task, so that the process that gathers the results
    receives a few large answers instead of many small ones (each answer waits for its turn at the
    interpreter lock while the model runs). ``reader`` is the function to call (tests substitute it).

    Example:
        >>> prepare_many(["no/such/file.txt"])[0].reason  # doctest: +ELLIPSIS
        'no/such/file.txt: ...'
    """
    out: list[PreparedDocument | ReadFailure] = []
    for path in paths:
        try:
            out.append(reader(path, normalize=normalize))
        except DocumentError as e:
            out.append(ReadFailure(str(e)))
        except Exception as e:  # a reader's bug on one odd file must not stop a collection of thousands
            out.append(ReadFailure(f"{type(e).__name__}: {e}"))
    return out
