"""Web pages: the main text without navigation, footer or scripts; the whole page's text as a fallback."""

from __future__ import annotations

from pathlib import Path

from policytag.labels.documents import html_to_text, read_document
from policytag.labels.documents.html import FALLBACK_WARNING, extract_html
from tests.support.documents import FOOTER_TEXT, NAV_TEXT, write_gbk_html


def test_html_tags_stripped_blocks_become_lines_scripts_dropped() -> None:
    markup = (
        "<html><head><title>标题</title><style>p{}</style></head>"
        "<body><p>第一<b>段</b>。</p><script>x=1</script><div>第二&amp;段</div></body></html>"
    )
    text = html_to_text(markup)
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    assert lines == ["第一段。", "第二&段"]


def test_gbk_page_main_text_without_navigation_footer_or_script(tmp_path: Path) -> None:
    for declare in (True, False):
        sample = write_gbk_html(tmp_path / f"page{declare}.html", declare=declare)
        doc = read_document(sample.path)
        assert doc.encoding == "gb18030" and doc.format == "html" and doc.warnings == ()
        assert all(line in doc.text for line in sample.lines)
        chrome = [t for t in (*NAV_TEXT, *FOOTER_TEXT, "var note", "脚本") if t in doc.text]
        assert not chrome, f"page chrome in the extracted text: {chrome}"
        assert doc.title is not None and sample.title is not None and doc.title.startswith(sample.title)


def test_nothing_found_falls_back_to_the_whole_page_with_a_warning() -> None:
    # A bare fragment is too little for trafilatura to call anything the main text.
    text, title, warnings = extract_html("<p>好。</p>")
    assert text.strip() == "好。" and title is None and warnings == (FALLBACK_WARNING,)
