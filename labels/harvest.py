"""Harvested pages: the files a harvest writes, and how they are read.

A harvest file holds one or more pages, each a ``=====PAGE=====`` line, a header of ``key: value``
lines (the page's facts, :class:`policytag.labels.manifest.PageFacts`, and the ``query`` that found it), a
``-----`` line and the page's text exactly as it was retrieved (page chrome and a cut-off last
fragment included). :data:`EXAMPLE` is a whole file of one page.

Example:
    >>> page = parse_harvest_text(EXAMPLE, origin="x.txt")[0]
    >>> page.locality, page.year, page.text
    ('某市某县', 2022, '某县司法局2022年工作总结。')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from policytag.core.jsonl import DataError
from policytag.labels.manifest import DOC_TYPES, LEVELS, PageFacts

__all__ = ["PAGE_MARK", "PROVINCES", "HarvestedPage", "parse_harvest_file", "parse_harvest_text"]

PAGE_MARK = "=====PAGE====="
TEXT_MARK = "-----"
HEADER_FIELDS = ("url", "title", "issuer", "locality", "province", "level", "year", "doc_type", "query")
# The 31 provincial-level divisions of the mainland, as the manifest spells them.
PROVINCES = (
    *("北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省"),
    *("浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区"),
    *("海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省"),
    *("宁夏回族自治区", "新疆维吾尔自治区"),
)
_LEVEL_ALIASES = {"county-district": "county", "district": "county", "county/district": "county", "prefecture": "city"}

EXAMPLE = f"""{PAGE_MARK}
url: https://example.gov.cn/a.html
title: 某县司法局2022年工作总结
issuer: 某县司法局
locality: 某市某县
province: 四川省
level: county
year: 2022
doc_type: work_summary
query: 某县 2022 司法局 工作总结
{TEXT_MARK}
某县司法局2022年工作总结。
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class HarvestedPage(PageFacts):
    """One retrieved page with the facts its harvester read from it."""

    query: str
    text: str
    origin: str  # file:line of the page's header, for error messages and the ingest report


def _province(value: str) -> str | None:
    value = value.strip()
    if value in PROVINCES:
        return value
    matches = [p for p in PROVINCES if p.startswith(value) and len(value) >= 2]
    return matches[0] if len(matches) == 1 else None


def _parse_page(block: list[str], *, origin: str, path: str, line: int) -> HarvestedPage:
    try:
        split = block.index(TEXT_MARK)
    except ValueError:
        raise DataError(path, line, f"no '{TEXT_MARK}' line between header and text") from None
    header: dict[str, str] = {}
    for offset, raw in enumerate(block[:split]):
        key, sep, value = raw.partition(":")
        if not sep:
            raise DataError(path, line + 1 + offset, f"header line is not 'key: value': {raw[:40]!r}")
        header[key.strip()] = value.strip()
    for name in HEADER_FIELDS:
        if not header.get(name) and name != "query":
            raise DataError(path, line, "missing or empty", field=name)
    province = _province(header["province"])
    if province is None:
        raise DataError(path, line, f"{header['province']!r} is not one of the 31 provinces", field="province")
    level = _LEVEL_ALIASES.get(header["level"], header["level"])
    if level not in LEVELS:
        raise DataError(path, line, f"{header['level']!r} is not one of {', '.join(LEVELS)}", field="level")
    if header["doc_type"] not in DOC_TYPES:
        raise DataError(path, line, f"{header['doc_type']!r} is not one of {', '.join(DOC_TYPES)}", field="doc_type")
    try:
        year = int(header["year"][:4])
    except ValueError:
        raise DataError(path, line, f"{header['year']!r} is not a year", field="year") from None
    text = "\n".join(block[split + 1 :])
    # The writer ends every page with one newline of its own; blank lines inside the text stay.
    text = text.rstrip("\n")
    if not text.strip():
        raise DataError(path, line, "the page has no text", field="text")
    return HarvestedPage(
        url=header["url"],
        title=header["title"],
        issuer=header["issuer"],
        locality=header["locality"],
        province=province,
        level=level,
        year=year,
        doc_type=header["doc_type"],
        query=header.get("query", ""),
        text=text,
        origin=origin,
    )


def parse_harvest_text(text: str, *, origin: str) -> list[HarvestedPage]:
    """Pages of one harvest file's text; the first malformed page raises :class:`DataError`."""
    lines = text.split("\n")
    starts = [i for i, raw in enumerate(lines) if raw == PAGE_MARK]
    if not starts:
        raise DataError(origin, None, f"no '{PAGE_MARK}' line: not a harvest file")
    pages = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        pages.append(_parse_page(lines[start + 1 : end], origin=f"{origin}:{start + 1}", path=origin, line=start + 2))
    return pages


def parse_harvest_file(path: str | Path) -> list[HarvestedPage]:
    """Read one harvest file (UTF-8)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(p, None, f"cannot read as UTF-8 ({e})") from None
    return parse_harvest_text(text, origin=str(p))
