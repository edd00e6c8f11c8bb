"""Web pages → text: the main text by trafilatura, or the whole page's text when it finds none.

A saved government page carries its navigation, breadcrumbs, footer (sponsor, ICP number) and
scripts around the report; trafilatura (a maintained main-text extractor) keeps the report. When it
finds nothing (a page that is all chrome, or a fragment too small to judge), :func:`html_to_text`
gives the text of the whole page, with a warning saying so. Offsets of sentences refer to the text
returned here.

Example:
    >>> html_to_text("<p>第一段。</p><script>x</script><div>第二段</div>").split()
    ['第一段。', '第二段']
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["FALLBACK_WARNING", "extract_html", "html_to_text"]

FALLBACK_WARNING = "main-text extraction found nothing; whole page text used"

# Elements after which a reader sees a new line; everything else is inline.
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p"),
        *("pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul"),
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head"})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


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


def _page_title(markup: str) -> str | None:
    match = _TITLE.search(markup)
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    return title or None


def extract_html(markup: str) -> tuple[str, str | None, tuple[str, ...]]:
    """The main text of a page, its title and the warnings: ``(text, title, warnings)``.

    The title is trafilatura's (the page's ``<title>`` or heading, site name trimmed), else the ``<title>``.
    """
    import trafilatura  # imported on use: importing policytag.labels.documents stays light

    result = trafilatura.bare_extraction(
        markup, with_metadata=True, include_comments=False, include_tables=True, deduplicate=False
    )
    found = result if isinstance(result, dict) else (result.as_dict() if result is not None else {})
    text = found.get("text") or ""
    title = (found.get("title") or "").strip() or None
    if text.strip():
        return text, title or _page_title(markup), ()
    return html_to_text(markup), title or _page_title(markup), (FALLBACK_WARNING,)
