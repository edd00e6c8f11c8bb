"""Word (``.docx``) → text: paragraphs and table cells in document order (python-docx).

Reports put statistics in tables (cases handled, mediations, legal-aid cases); each cell's text is
its own line, so the splitter never joins two cells into one sentence. A merged cell is read once.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from policytag.labels.documents.base import DocumentError

if TYPE_CHECKING:
    from docx.table import Table

__all__ = ["docx_text"]


def _table_lines(table: Table) -> list[str]:
    from docx.table import Table

    lines: list[str] = []
    for row in table.rows:
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                continue
            seen.add(id(cell._tc))
            for block in cell.iter_inner_content():
                lines.extend(_table_lines(block) if isinstance(block, Table) else [block.text])
    return lines


def docx_text(data: bytes, *, name: str) -> tuple[str, str | None]:
    """The text of a Word file and the title in its properties: ``(text, title)``.

    Raises:
        DocumentError: not a readable ``.docx`` (e.g. an old binary ``.doc`` renamed).
    """
    import docx  # imported on use: importing policytag.labels.documents stays light
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            lines.extend(_table_lines(block) if isinstance(block, Table) else [block.text])
        title = (document.core_properties.title or "").strip() or None
    except Exception as e:  # python-docx raises zip, XML and key errors on damaged files
        raise DocumentError(f"{name}: not a readable Word (.docx) file ({e})") from None
    return "\n".join(lines), title
