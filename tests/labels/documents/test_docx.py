"""Word files: paragraphs and table cells in document order, one a line; the title from the properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from policytag.labels.documents import DocumentError, read_document
from tests.support.documents import write_docx


def test_paragraphs_and_table_cells_in_document_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("第一段。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并的单元格。"
    table.cell(1, 0).text = "左。"
    table.cell(1, 1).text = "右。"
    document.add_paragraph("表后一段。")
    path = tmp_path / "order.docx"
    document.save(str(path))
    doc = read_document(path)
    assert doc.text.splitlines() == ["第一段。", "合并的单元格。", "左。", "右。", "表后一段。"]
    assert (doc.format, doc.title) == ("docx", None)


def test_title_from_the_core_properties(tmp_path: Path) -> None:
    sample = write_docx(tmp_path / "r.docx")
    doc = read_document(sample.path)
    assert doc.title == sample.title and all(line in doc.text.splitlines() for line in sample.lines)


def test_a_renamed_non_docx_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc")
    with pytest.raises(DocumentError, match=r"old\.docx: not a readable Word \(\.docx\) file"):
        read_document(path)
