"""PDF: the text layer page by page; scans, encrypted and damaged files refused with the reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from policytag.labels.documents import DocumentError, read_document
from tests.support.documents import write_scanned_pdf, write_text_pdf


def _encrypted(source: Path, target: Path, *, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    target.write_bytes(buffer.getvalue())
    return target


def test_text_layer_pages_joined_by_line_breaks(tmp_path: Path) -> None:
    sample = write_text_pdf(tmp_path / "r.pdf")
    doc = read_document(sample.path)
    assert (doc.format, doc.encoding, doc.title) == ("pdf", "", sample.title)
    # Page 1 ends with the third sentence, page 2 starts with the fourth: one line break between them.
    assert f"{sample.lines[3]}\n{sample.lines[4]}" in doc.text
    assert [line for line in doc.text.splitlines() if line.strip()] == list(sample.lines)


def test_scanned_pdf_is_refused(tmp_path: Path) -> None:
    sample = write_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(DocumentError, match=r"scan\.pdf: PDF has no text layer \(scanned\?\); OCR it first"):
        read_document(sample.path)


def test_encrypted_pdf_is_refused_unless_the_user_password_is_empty(tmp_path: Path) -> None:
    source = write_text_pdf(tmp_path / "r.pdf")
    locked = _encrypted(source.path, tmp_path / "locked.pdf", user_password="secret")
    with pytest.raises(DocumentError, match=r"locked\.pdf: PDF is encrypted"):
        read_document(locked)
    owner_only = _encrypted(source.path, tmp_path / "owner.pdf", user_password="")
    assert source.lines[1] in read_document(owner_only).text


def test_damaged_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 this is not really a PDF")
    with pytest.raises(DocumentError, match=r"broken\.pdf: (not a readable PDF|PDF has no text layer)"):
        read_document(path)
