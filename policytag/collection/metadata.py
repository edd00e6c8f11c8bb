"""Where and when a report is from: province, locality and year read from its title or first lines.

Report titles name their issuer's place and year in a fixed pattern
(``江苏省南京市鼓楼区2023年法治政府建设年度报告``), so the title is read first and, when it names no place,
the first few non-blank lines of the text that are as short as a title (where a plain-text report
carries its title and issuer; a sentence of the body names other places too). Nothing is guessed: a
place or year that is not written there is ``None``.

* **Province**: one of the 31 names of :data:`policytag.labels.harvest.PROVINCES`, written in full
  anywhere in the line, or short (``江苏``, ``内蒙古``) at the start of the line and not followed by
  a unit suffix (``吉林市`` is a city, ``海南州`` a prefecture of Qinghai: neither names a province).
* **Locality**: up to three administrative units (``南京市``, ``鼓楼区``, ``凉山彝族自治州``) right after
  the province, or at the start of the line when it names none, and followed by what follows a place
  in a title: the year, a break, or the issuer (人民政府, 司法局, 委, …); a unit containing a word such
  as 人民/政府/关于 or starting with 全/本/我 is not a place. ``中共某县委`` reads as 某县.
* **Year**: a four-digit 19xx/20xx followed by 年, in the title, else in the first 200 characters.

Traditional characters and full-width digits are read as simplified and ASCII (``江蘇省`` → 江苏省).

Example:
    >>> read_metadata("江苏省南京市鼓楼区2023年法治政府建设年度报告")
    Metadata(province='江苏省', locality='南京市鼓楼区', year=2023)
    >>> read_metadata("关于2023年法治政府建设工作情况的报告")
    Metadata(province=None, locality=None, year=2023)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from policytag.labels.documents.chinese import to_simplified
from policytag.labels.harvest import PROVINCES

__all__ = ["Metadata", "find_place", "find_year", "read_metadata"]

# 北京市 → 北京, 广西壮族自治区 → 广西, 内蒙古自治区 → 内蒙古.
_SHORT = {re.sub(r"(?:壮族|回族|维吾尔)?自治区$|省$|市$", "", p): p for p in PROVINCES}
_UNIT_SUFFIXES = "市州县区旗盟"
# One administrative unit: a short name and its suffix (苏州市 and 通州区 whole, not 苏州 + 市).
_UNIT = re.compile(r"[\u4e00-\u9fff]{1,7}?(?:自治州|自治县|自治旗|地区|新区|州市|州区|[市州县区旗盟])")
# Words no place name holds: a run of "units" containing one is a phrase (关于全区, 务实奋进的许昌市).
_NOT_PLACE: tuple[str, ...] = ("人民", "政府", "关于", "法治", "建设", "工作", "报告", "年", "局", "委", "办")
_NOT_PLACE += ("社区", "印发", "的", "城市", "欢迎", "访问", "位于", "履行", "规范", "这", "是", "为")
_OPENERS = "《“\"'【[（(〈「『 "
_NOT_PLACE_START = "全本我各该此对"
# What may follow a place name in a title: besides a digit (the year), a break or the end, an issuer.
_AFTER_PLACE = ("人民政府", "政府", "司法局", "司法厅", "党委", "委", "管委会", "法治", "依法治", "关于", "年度")
_PARTY = "中共"  # 中共某县委: the county party committee
_MAX_UNITS = 3
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_YEAR_WINDOW = 200
_TEXT_LINES = 5
# A line of the text is read for a place only when it is as short as a title: a paragraph of the body
# names other places (partner cities, a province's campaign) than the report's own.
_TITLE_LINE = 50
_SENTENCE_MARKS = frozenset("，。；！？,;")


@dataclass(frozen=True, slots=True)
class Metadata:
    """A report's province (one of the 31 full names), locality and year; ``None`` when not written."""

    province: str | None = None
    locality: str | None = None
    year: int | None = None


def _normal(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text))


def _province(line: str) -> tuple[str | None, int]:
    """The province named in ``line`` and where its name ends (0 when none)."""
    found = [(line.find(p), p) for p in PROVINCES if p in line]
    if found:
        start, name = min(found)
        return name, start + len(name)
    for short, name in _SHORT.items():
        after = len(short)
        if line.startswith(short) and (after == len(line) or line[after] not in _UNIT_SUFFIXES):
            return name, after
    return None, 0


def _ends_a_place(line: str, pos: int) -> bool:
    """Whether what follows a run of units at ``pos`` shows that the run was a place name."""
    rest = line[pos:]
    return not rest or not ("\u4e00" <= rest[0] <= "\u9fff") or rest.startswith(_AFTER_PLACE)


def _locality(line: str, start: int) -> str | None:
    pos = start + len(_PARTY) if line.startswith(_PARTY, start) else start
    ends = [pos]
    while len(ends) <= _MAX_UNITS:
        match = _UNIT.match(line, ends[-1])
        if match is None or match.group()[0] in _NOT_PLACE_START or any(w in match.group() for w in _NOT_PLACE):
            break
        ends.append(match.end())
    # Drop units from the end until the run is followed by a year, a break or an issuer (市人民政府, 区司法局).
    while len(ends) > 1 and not _ends_a_place(line, ends[-1]):
        ends.pop()
    return line[pos : ends[-1]] or None


def find_place(line: str) -> tuple[str | None, str | None]:
    """``(province, locality)`` named in one line (a title); either may be ``None``.

    Example:
        >>> find_place("江苏南京市2023年度法治政府建设工作报告")
        ('江苏省', '南京市')
    """
    line = _normal(line).strip().lstrip(_OPENERS)
    province, end = _province(line)
    return province, _locality(line, end)


def find_year(text: str) -> int | None:
    """The first 19xx/20xx year written before 年 in ``text``, else ``None``."""
    match = _YEAR.search(unicodedata.normalize("NFKC", text))
    return int(match.group(1)) if match else None


def _first_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text[: _YEAR_WINDOW * 4].splitlines()]
    first = [line for line in lines if line][:_TEXT_LINES]
    return [line for line in first if len(line) <= _TITLE_LINE and not _SENTENCE_MARKS.intersection(line)]


def read_metadata(title: str | None, text: str = "") -> Metadata:
    """Province, locality and year of a report from its ``title``, else from the first lines of ``text``."""
    place: tuple[str | None, str | None] = (None, None)
    for line in ([title] if title else []) + _first_lines(text):
        place = find_place(line)
        if place != (None, None):
            break
    year = find_year(title) if title else None
    if year is None:
        year = find_year(text[:_YEAR_WINDOW])
    return Metadata(province=place[0], locality=place[1], year=year)
