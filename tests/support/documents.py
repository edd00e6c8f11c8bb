"""Small test documents of every format the kit reads, built on the spot from sentences written here.

Every builder writes one file and returns a :class:`SampleFile`: its path, its format, the title the
file declares (or ``None``), the report lines it holds (one sentence a line, each of which must come
back whole from :func:`policytag.labels.documents.read_document`), the province/locality/year its title
names, and, for a file that must be refused, a fragment of the :class:`DocumentError` message.

The API other tests rely on (keep it stable):

* ``write_txt``, ``write_markdown``, ``write_gbk_html``, ``write_text_pdf``, ``write_docx``,
  ``write_traditional_txt``: good documents, one report each (different text, so different sha256);
* ``write_scanned_pdf``, ``write_binary``, ``write_empty``: bad ones;
* ``write_mixed_folder(folder, nested=False) -> dict[str, SampleFile]``: all of the above in one
  folder, keyed by file name (``nested=True`` puts the DOCX and the traditional file in ``sub/``);
  ``good(files)`` and ``bad(files)`` split it;
* ``report_lines(seed)``: the report sentences of document ``seed``; ``NAV_TEXT`` and ``FOOTER_TEXT``:
  page chrome of the HTML page that must not be in its extracted text.

The sentences are written for these tests (no text of any real page).

Example:
    >>> report_lines(0)[0]
    '全年办理法律援助案件120件，为群众挽回经济损失35万元。'
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FOOTER_TEXT",
    "NAV_TEXT",
    "SampleFile",
    "bad",
    "good",
    "report_lines",
    "write_binary",
    "write_docx",
    "write_empty",
    "write_gbk_html",
    "write_markdown",
    "write_mixed_folder",
    "write_scanned_pdf",
    "write_text_pdf",
    "write_traditional_txt",
    "write_txt",
]

# Sentence patterns of a yearly rule-of-law report: enforcement, mediation, legal aid, business environment.
_PATTERNS = (
    "全年办理法律援助案件{n}件，为群众挽回经济损失{m}万元。",
    "人民调解组织调解矛盾纠纷{n}件，调解成功率达{p}%。",
    "严格落实行政执法公示制度，公开执法信息{n}条。",
    "开展涉企行政执法检查专项整治，减少检查{n}次。",
    "办理行政复议案件{n}件，纠正违法或不当行政行为{m}件。",
    "组织领导干部旁听庭审{n}次，学法用法考试参考率达{p}%。",
    "推行包容审慎监管，对轻微违法行为依法不予处罚{n}件。",
    "建成公共法律服务工作站{n}个，实现村居法律顾问全覆盖。",
)
NAV_TEXT = ("首页", "政务公开", "政务服务", "互动交流", "当前位置")
FOOTER_TEXT = ("主办单位：某某人民政府办公室", "网站标识码1234567890", "版权所有")
_SCRIPT_TEXT = "脚本里的文字不应出现"


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One built test file and what reading it must give (``error``: a fragment of the refusal)."""

    path: Path
    format: str
    title: str | None = None
    lines: tuple[str, ...] = ()
    province: str | None = None
    locality: str | None = None
    year: int | None = None
    error: str | None = None


def report_lines(seed: int, count: int = 6) -> list[str]:
    """``count`` report sentences for document ``seed``; two seeds give different numbers, so different text."""
    out = []
    for i in range(count):
        pattern = _PATTERNS[(seed + i) % len(_PATTERNS)]
        out.append(pattern.format(n=120 + 37 * seed + 11 * i, m=35 + seed + i, p=90 + (seed + i) % 9))
    return out


def _title(province: str, locality: str, year: int) -> str:
    return f"{province}{locality}{year}年法治政府建设年度报告"


def write_txt(path: Path, *, seed: int = 0) -> SampleFile:
    """A UTF-8 ``.txt`` report: a title line, then one sentence a line."""
    title, lines = _title("江苏省", "南京市鼓楼区", 2023), report_lines(seed)
    path.write_text("\n".join([title, *lines]) + "\n", encoding="utf-8")
    return SampleFile(path, "txt", None, (title, *lines), "江苏省", "南京市鼓楼区", 2023)


def write_markdown(path: Path, *, seed: int = 1) -> SampleFile:
    """A UTF-8 ``.md`` report (a ``#`` heading, a list); read as plain text, markup included."""
    lines = report_lines(seed)
    body = "\n".join(f"- {line}" for line in lines[:3]) + "\n\n" + "\n\n".join(lines[3:])
    path.write_text(f"# {_title('浙江省', '杭州市西湖区', 2022)}\n\n{body}\n", encoding="utf-8")
    return SampleFile(path, "md", None, tuple(lines), "浙江省", "杭州市西湖区", 2022)


def write_gbk_html(path: Path, *, seed: int = 2, declare: bool = True) -> SampleFile:
    """A GBK-encoded saved page: navigation, the report, a footer and a script; ``<meta charset>`` if ``declare``."""
    title, lines = _title("四川省", "成都市武侯区", 2021), report_lines(seed, count=8)
    nav = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(NAV_TEXT))
    body = "".join(f"<p>{line}</p>" for line in lines)
    footer = "".join(f"<p>{t}</p>" for t in FOOTER_TEXT)
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gbk">' if declare else ""
    page = (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}_武侯区人民政府</title></head><body>"
        f'<div class="nav"><ul>{nav}</ul></div>'
        f'<div class="article"><h1>{title}</h1>{body}</div>'
        f'<div class="footer">{footer}</div><script>var note = "{_SCRIPT_TEXT}";</script></body></html>'
    )
    path.write_bytes(page.encode("gbk"))
    return SampleFile(path, "html", title, tuple(lines), "四川省", "成都市武侯区", 2021)


def _pdf_canvas(buffer: io.BytesIO) -> Any:
    """A reportlab canvas writing into ``buffer``, the same bytes on every run (``invariant``)."""
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
    from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # built into reportlab: no font file needed
    return canvas.Canvas(buffer, invariant=True)


def write_text_pdf(path: Path, *, seed: int = 3) -> SampleFile:
    """A two-page PDF with a Chinese text layer (reportlab's CID font ``STSong-Light``), title in its properties."""
    title, lines = _title("广东省", "广州市天河区", 2023), report_lines(seed)
    buffer = io.BytesIO()
    pdf = _pdf_canvas(buffer)
    pdf.setTitle(title)
    for page in ([title, *lines[:3]], lines[3:]):
        pdf.setFont("STSong-Light", 11)
        for i, line in enumerate(page):
            pdf.drawString(50, 790 - 22 * i, line)
        pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())
    return SampleFile(path, "pdf", title, (title, *lines), "广东省", "广州市天河区", 2023)


def write_scanned_pdf(path: Path) -> SampleFile:
    """A PDF like a scan: a page of drawn shapes and no text layer."""
    buffer = io.BytesIO()
    pdf = _pdf_canvas(buffer)
    for i in range(5):
        pdf.rect(60 + 10 * i, 500 - 40 * i, 400, 20, fill=1)
    pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())
    return SampleFile(path, "pdf", error="PDF has no text layer")


def write_docx(path: Path, *, seed: int = 4) -> SampleFile:
    """A Word file: title property, paragraphs, and a table whose cells are sentences of the report."""
    import docx

    title, lines = _title("湖北省", "武汉市江岸区", 2022), report_lines(seed)
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for line in lines[:2]:
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    for cell, line in zip((c for row in table.rows for c in row.cells), lines[2:6], strict=True):
        cell.text = line
    document.save(str(path))
    return SampleFile(path, "docx", title, (title, *lines), "湖北省", "武汉市江岸区", 2022)


def write_traditional_txt(path: Path) -> SampleFile:
    """A UTF-8 ``.txt`` report in traditional characters (the model reads a simplified copy)."""
    lines = (
        "廣東省深圳市福田區2021年法治政府建設年度報告",
        "全年辦理法律援助案件356件，為群眾挽回經濟損失120萬元。",
        "人民調解組織調解矛盾糾紛2100件，調解成功率達98%。",
        "嚴格落實行政執法公示制度，推進嚴格規範公正文明執法。",
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return SampleFile(path, "txt", None, lines, "广东省", "深圳市福田区", 2021)


def write_binary(path: Path) -> SampleFile:
    """Binary bytes (with NUL bytes) under a text suffix."""
    path.write_bytes(bytes(range(256)) * 8)
    return SampleFile(path, path.suffix.lstrip(".") or "txt", error="binary file")


def write_empty(path: Path) -> SampleFile:
    """An empty file under a text suffix."""
    path.write_bytes(b"")
    return SampleFile(path, path.suffix.lstrip(".") or "txt", error="no text")


def write_mixed_folder(folder: Path, *, nested: bool = False) -> dict[str, SampleFile]:
    """One folder of every kind (keyed by file name): 6 good documents, then 3 bad ones.

    Good: ``report.txt``, ``notes.md``, ``page.html`` (GBK), ``report.pdf``, ``report.docx``,
    ``traditional.txt``; bad: ``scanned.pdf``, ``blob.txt`` (binary), ``empty.txt``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    deep = folder / "sub" if nested else folder
    deep.mkdir(exist_ok=True)
    built = [
        write_txt(folder / "report.txt"),
        write_markdown(folder / "notes.md"),
        write_gbk_html(folder / "page.html"),
        write_text_pdf(folder / "report.pdf"),
        write_docx(deep / "report.docx"),
        write_traditional_txt(deep / "traditional.txt"),
        write_scanned_pdf(folder / "scanned.pdf"),
        write_binary(folder / "blob.txt"),
        write_empty(folder / "empty.txt"),
    ]
    return {f.path.name: f for f in built}


def good(files: dict[str, SampleFile]) -> dict[str, SampleFile]:
    """The files that must be read (no expected error)."""
    return {name: f for name, f in files.items() if f.error is None}


def bad(files: dict[str, SampleFile]) -> dict[str, SampleFile]:
    """The files that must be refused, each with its expected reason."""
    return {name: f for name, f in files.items() if f.error is not None}
