"""What reading a document produces: :class:`Document`, :class:`DocumentError` and the file types read.

Kept apart from the readers so that every reader module (encoding, HTML, PDF, DOCX) can name the
error and the result without importing the others.

Example:
    >>> document_format("Report.HTM"), document_format("a/b.docx")
    ('html', 'docx')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DOCUMENT_SUFFIXES",
    "HTML_SUFFIXES",
    "TEXT_SUFFIXES",
    "Document",
    "DocumentError",
    "document_format",
]

# Files whose bytes are text (decoded with an encoding); the server's upload route takes these.
TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
# Every file type :func:`policytag.labels.documents.read_document` reads.
DOCUMENT_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
# The ``format`` a suffix gives (``.htm`` is HTML).
_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class Document:
    """A source document: ``doc`` is the file stem, ``text`` the plain text offsets refer to.

    ``encoding`` is the text encoding the bytes were decoded with (``''`` for PDF and DOCX, whose text
    comes out of the container); ``format`` one of ``txt``, ``md``, ``html``, ``pdf``, ``docx``;
    ``title`` the title the file itself declares (HTML ``<title>``, PDF or DOCX properties), if any;
    ``warnings`` short notes on how the text was extracted (e.g. a fallback that was taken).
    """

    doc: str
    text: str
    encoding: str
    path: str | None = None
    format: str = "txt"
    title: str | None = None
    warnings: tuple[str, ...] = ()


def document_format(name: str | Path) -> str:
    """The format of a file called ``name``, from its suffix.

    Raises:
        DocumentError: a suffix the kit does not read.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in _FORMATS:
        raise DocumentError(
            f"{name}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(DOCUMENT_SUFFIXES)}"
        )
    return _FORMATS[suffix]
