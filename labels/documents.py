"""Reading source documents (``.txt``, ``.md``, ``.html``/``.htm``) into plain text.

The offsets of every sentence refer to the text this module returns: for ``.txt`` and ``.md``
that is the decoded file itself, for HTML it is the text left once markup is removed (block
elements become line breaks, ``script``/``style`` are dropped, entities are decoded).

Example:
    >>> doc = decode_document(b"<p>\\xe5\\xa5\\xbd\\xe3\\x80\\x82</p>", name="x.html")
    >>> doc.text.strip()
    '好。'
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# Reading a document file, then the steps it takes (also used on uploaded bytes).
__all__ = ["DOCUMENT_SUFFIXES", "Document", "DocumentError", "read_document"]
__all__ += ["decode_bytes", "decode_document", "html_to_text"]

DOCUMENT_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")

# Elements after which a reader sees a new line; everything else is inline.
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p"),
        *("pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul"),
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head"})


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class Document:
    """A source document: ``doc`` is the file stem, ``text`` the plain text offsets refer to."""

    doc: str
    text: str
    encoding: str
    path: str | None = None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Strip tags from ``markup``: block elements become line breaks, entities are decoded."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    # The parser already decodes character references; unescape catches any left in CDATA-like text.
    return html.unescape("".join(parser.parts))


def decode_bytes(data: bytes, *, name: str = "<input>") -> tuple[str, str]:
    """Decode ``data`` as UTF-8 (BOM allowed) or else GB18030; return ``(text, encoding)``.

    Raises:
        DocumentError: neither encoding decodes the bytes.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise DocumentError(
                f"{name}: not UTF-8 (byte {utf8_error.start}: {utf8_error.reason}) and not GB18030 either"
            ) from None


def decode_document(data: bytes, *, name: str) -> Document:
    """Turn the bytes of a file called ``name`` into a :class:`Document`."""
    suffix = Path(name).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise DocumentError(
            f"{name}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(DOCUMENT_SUFFIXES)}"
        )
    text, encoding = decode_bytes(data, name=name)
    if suffix in HTML_SUFFIXES:
        text = html_to_text(text)
    return Document(doc=Path(name).stem, text=text, encoding=encoding)


def read_document(path: str | Path) -> Document:
    """Read and decode one document file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"{p}: cannot read ({e.strerror})") from None
    doc = decode_document(data, name=p.name)
    return Document(doc=doc.doc, text=doc.text, encoding=doc.encoding, path=str(p))
