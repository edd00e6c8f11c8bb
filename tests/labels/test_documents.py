from __future__ import annotations

from pathlib import Path

import pytest

from policytag.labels.documents import DocumentError, decode_bytes, decode_document, html_to_text, read_document


def test_html_tags_stripped_blocks_become_lines_scripts_dropped() -> None:
    markup = (
        "<html><head><title>标题</title><style>p{}</style></head>"
        "<body><p>第一<b>段</b>。</p><script>x=1</script><div>第二&amp;段</div></body></html>"
    )
    text = html_to_text(markup)
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    assert lines == ["第一段。", "第二&段"]


def test_gb18030_is_detected() -> None:
    data = "行政执法。".encode("gb18030")
    assert decode_bytes(data) == ("行政执法。", "gb18030")
    assert decode_bytes("行政执法。".encode()) == ("行政执法。", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbf" + "好".encode()) == ("好", "utf-8")


def test_undecodable_bytes_name_the_file() -> None:
    with pytest.raises(DocumentError, match=r"bad\.txt"):
        decode_bytes(b"\xff\xfe\xfd\x80\x81", name="bad.txt")


def test_unsupported_suffix_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"report\.pdf: unsupported file type \.pdf"):
        decode_document(b"x", name="report.pdf")


def test_read_document_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        read_document(tmp_path / "nope.txt")


def test_html_document_offsets_refer_to_extracted_text(tmp_path: Path) -> None:
    p = tmp_path / "d.html"
    p.write_text("<p>法律援助。</p><p>调解。</p>", encoding="utf-8")
    doc = read_document(p)
    assert doc.doc == "d"
    assert "<p>" not in doc.text and "法律援助。" in doc.text
