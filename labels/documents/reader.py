"""Reading a document file: the one entry point for every format (text, HTML, PDF, DOCX).

:func:`decode_document` works on bytes (the server's uploads), :func:`read_document` on a path; both
return a :class:`~policytag.labels.documents.base.Document` whose ``text`` is what sentence offsets
refer to, or raise :class:`~policytag.labels.documents.base.DocumentError` naming the file and why.

Example:
    >>> decode_document("第一句。第二句。".encode(), name="a.txt").text
    '第一句。第二句。'
"""

from __future__ import annotations

from pathlib import Path

from policytag.labels.documents.base import Document, DocumentError, document_format
from policytag.labels.documents.docx import docx_text
from policytag.labels.documents.encoding import declared_charset, decode_bytes
from policytag.labels.documents.html import extract_html
from policytag.labels.documents.pdf import pdf_text

__all__ = ["decode_document", "read_bytes", "read_document"]


def decode_document(data: bytes, *, name: str) -> Document:
    """Turn the bytes of a file called ``name`` into a :class:`Document`.

    Raises:
        DocumentError: an unsupported type, an empty or binary file, undecodable bytes, a PDF without a
            text layer or encrypted, a damaged PDF or DOCX, or no text once extracted.
    """
    fmt = document_format(name)
    if not data:
        raise DocumentError(f"{name}: empty file, no text")
    title: str | None = None
    warnings: tuple[str, ...] = ()
    encoding = ""
    if fmt == "pdf":
        text, title = pdf_text(data, name=name)
    elif fmt == "docx":
        text, title = docx_text(data, name=name)
    else:
        text, encoding = decode_bytes(data, name=name, declared=declared_charset(data) if fmt == "html" else None)
        if fmt == "html":
            text, title, warnings = extract_html(text)
    if not text.strip():
        raise DocumentError(f"{name}: no text")
    return Document(doc=Path(name).stem, text=text, encoding=encoding, format=fmt, title=title, warnings=warnings)


def read_bytes(path: str | Path) -> bytes:
    """The bytes of ``path``; :class:`DocumentError` naming it when it cannot be read."""
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as e:
        raise DocumentError(f"{p}: cannot read ({e.strerror})") from None


def read_document(path: str | Path) -> Document:
    """Read and decode one document file; error messages name its path."""
    p = Path(path)
    doc = decode_document(read_bytes(p), name=str(p))
    return Document(
        doc=doc.doc,
        text=doc.text,
        encoding=doc.encoding,
        path=str(p),
        format=doc.format,
        title=doc.title,
        warnings=doc.warnings,
    )
