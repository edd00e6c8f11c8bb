"""Reading source documents (``.txt``, ``.md``, ``.html``/``.htm``, ``.pdf``, ``.docx``) into plain text.

The offsets of every sentence refer to the text this package returns: for ``.txt`` and ``.md`` that
is the decoded file itself, for HTML the page's main text (trafilatura; the whole page's text, with a
warning, when it finds none), for PDF the text layer with pages joined by line breaks, for DOCX the
paragraphs and table cells in document order, one a line.

One module per job: :mod:`.base` (the result, the error, the file types), :mod:`.encoding` (bytes →
text, binary files refused), :mod:`.html`, :mod:`.pdf`, :mod:`.docx` (one format each, their libraries
imported on use, so importing this package stays light), :mod:`.reader` (the entry points) and
:mod:`.chinese` (traditional → simplified for what a model reads).

Example:
    >>> doc = decode_document(b"<p>\\xe5\\xa5\\xbd\\xe3\\x80\\x82</p>", name="x.html")
    >>> doc.text.strip(), doc.format
    ('好。', 'html')
"""

from __future__ import annotations

from policytag.labels.documents.base import (
    DOCUMENT_SUFFIXES,
    HTML_SUFFIXES,
    TEXT_SUFFIXES,
    Document,
    DocumentError,
    document_format,
)
from policytag.labels.documents.encoding import decode_bytes
from policytag.labels.documents.html import html_to_text
from policytag.labels.documents.reader import decode_document, read_bytes, read_document

# Reading a document file, then the steps it takes (also used on uploaded bytes).
__all__ = ["DOCUMENT_SUFFIXES", "HTML_SUFFIXES", "TEXT_SUFFIXES", "Document", "DocumentError", "read_document"]
__all__ += ["decode_bytes", "decode_document", "document_format", "html_to_text", "read_bytes"]
