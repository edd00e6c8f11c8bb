"""PDF → text: the text layer (pypdf), page by page.

A scanned report is images of pages with no text layer; its text would be empty, and an empty
document tagged as "no sentences" would hide that it was never read, so it is refused with a
reason that says what to do (OCR it). An encrypted PDF is read when its user password is empty
(a common "no printing" lock) and refused otherwise.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from policytag.labels.documents.base import DocumentError

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = ["pdf_text"]


def _open(data: bytes, name: str) -> PdfReader:
    from pypdf import PdfReader  # imported on use: importing policytag.labels.documents stays light

    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as e:  # pypdf raises many kinds of error on damaged files
        raise DocumentError(f"{name}: not a readable PDF ({e})") from None
    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
        except Exception:  # e.g. AES without the cryptography package
            opened = False
        if not opened:
            raise DocumentError(f"{name}: PDF is encrypted (a password is needed); decrypt it first")
    return reader


def pdf_text(data: bytes, *, name: str) -> tuple[str, str | None]:
    """The text layer of a PDF, pages joined with line breaks, and its title: ``(text, title)``.

    Raises:
        DocumentError: not a PDF, encrypted, or no text on any page (a scan).
    """
    reader = _open(data, name)
    try:
        pages = [(page.extract_text() or "").rstrip("\n") for page in reader.pages]
        title = ((reader.metadata.title or "").strip() or None) if reader.metadata else None
    except Exception as e:  # a damaged page or metadata object
        raise DocumentError(f"{name}: not a readable PDF ({e})") from None
    if not any(page.strip() for page in pages):
        raise DocumentError(f"{name}: PDF has no text layer (scanned?); OCR it first")
    return "\n".join(pages), title
