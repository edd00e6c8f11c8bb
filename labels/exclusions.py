"""Pages kept out of the corpus for evaluation, and the checks that keep them out.

``seeds/excluded_sources.csv`` copies the list of ``shared/EXCLUDED_SOURCES.md`` as data: for
each page its ``place`` (the most specific administrative unit of the issuing office: ``静海区``,
``淄博市``, ``江苏省``), its ``level`` and the subject years ``year_from``..``year_to`` (the
listed year widened by one on each side, the rule of that file). A document is excluded when

* its URL is a listed URL (scheme, ``www.``, a trailing slash and a fragment ignored), or
* its office is a listed office (the same place at the same level) and its year is in the range;

``seeds/excluded_fingerprints.json`` holds MinHash signatures and sentence keys (hashes, never
text) of the listed pages' stored copies, so that a mirror or repost at another URL is caught too:

* its MinHash Jaccard similarity with a listed page is at least :data:`FINGERPRINT_JACCARD`, or
* it shares :data:`FINGERPRINT_SENTENCES` or more sentences of at least :data:`FINGERPRINT_MIN_CHARS`
  characters with one listed page.

Example:
    >>> src = ExcludedSource(place="静海区", level="county", year_from=2022, year_to=2025, url="http://a.cn/x.html",
    ...                      locality="天津市静海区", title="t")
    >>> exclusion_reason([src], url="https://www.a.cn/x.html", locality="", level="county", year=2010)
    'URL of excluded page http://a.cn/x.html'
    >>> exclusion_reason([src], url="", locality="天津市静海区", level="county", year=2024)
    'office 静海区 (county) in 2024, within 2022..2025 of excluded page http://a.cn/x.html'
    >>> exclusion_reason([src], url="", locality="天津市静海区", level="county", year=2019) is None
    True
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policytag.core.jsonl import DataError, atomic_write_text
from policytag.core.splitter import split_sentences
from policytag.labels.dedup import jaccard, minhash, normalise, sentence_key

__all__ = [
    "FINGERPRINT_JACCARD",
    "ExcludedSource",
    "Fingerprints",
    "exclusion_reason",
    "fingerprint_pages",
    "load_excluded",
    "normalise_url",
    "office_place",
    "page_exclusion",
]

FINGERPRINT_JACCARD = 0.3
FINGERPRINT_SENTENCES = 2
FINGERPRINT_MIN_CHARS = 20
_CSV_FIELDS = ("locality", "place", "level", "year_from", "year_to", "year_as_listed", "title", "url")


@dataclass(frozen=True, slots=True)
class ExcludedSource:
    """One row of the exclusion list (``excluded_sources.csv``): an office's page and the years kept out."""

    locality: str
    place: str
    level: str
    year_from: int
    year_to: int
    url: str
    title: str


def normalise_url(url: str) -> str:
    """``url`` without scheme, ``www.``, fragment and trailing slash, lower-cased host."""
    u = url.strip().split("#", 1)[0]
    u = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", u)
    host, _, rest = u.partition("/")
    host = host.lower().removeprefix("www.")
    return f"{host}/{rest}".rstrip("/")


# The units a place name ends with, longest first so that 自治区 wins over 区.
_UNITS = re.compile(r"(?:自治区|自治州|自治县|特别行政区|省|市|州|盟|地区|县|区|旗|镇|乡)$")


def office_place(locality: str) -> str:
    """The most specific unit of a locality name: ``天津市静海区`` → ``静海区``, ``淄博市`` → ``淄博市``."""
    name = locality.strip()
    for suffix in ("自治区", "自治州", "自治县"):
        if name.endswith(suffix):
            # 内蒙古自治区, 湘西土家族苗族自治州: keep the whole unit, it has no parent inside the name.
            head = name[: -len(suffix)]
            cut = max((head.rfind(u) for u in ("省", "市", "州")), default=-1)
            return name[cut + 1 :] if cut >= 0 else name
    if not _UNITS.search(name):
        return name
    # Cut after the last unit suffix that precedes the final one: 嘉兴市嘉善县 → 嘉善县.
    body = name[:-1]
    cut = max(body.rfind(u) for u in ("省", "市", "州", "盟", "区", "县"))
    return name[cut + 1 :] if cut >= 0 else name


def load_excluded(path: str | Path) -> list[ExcludedSource]:
    """Read ``excluded_sources.csv``; errors name the line and the column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(p, None, f"cannot read ({e.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [f for f in _CSV_FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise DataError(p, 1, "missing column", field=missing[0])
    out = []
    for line, row in enumerate(reader, start=2):
        try:
            lo, hi = int(row["year_from"]), int(row["year_to"])
        except ValueError:
            raise DataError(p, line, "year_from/year_to must be whole years", field="year_from") from None
        if row["level"] not in ("province", "city", "county"):
            raise DataError(p, line, f"{row['level']!r} is not province, city or county", field="level")
        if not row["place"] or not row["url"]:
            raise DataError(p, line, "must not be empty", field="place" if not row["place"] else "url")
        out.append(ExcludedSource(row["locality"], row["place"], row["level"], lo, hi, row["url"], row["title"]))
    return out


def exclusion_reason(
    sources: Sequence[ExcludedSource], *, url: str, locality: str, level: str, year: int
) -> str | None:
    """Why a document with these facts must stay out of the project's data, or ``None``."""
    key = normalise_url(url) if url else None
    place = office_place(locality) if locality else ""
    for s in sources:
        if key and key == normalise_url(s.url):
            return f"URL of excluded page {s.url}"
        if place and place == s.place and level == s.level and s.year_from <= year <= s.year_to:
            return f"office {s.place} ({s.level}) in {year}, within {s.year_from}..{s.year_to} of excluded page {s.url}"
    return None


def _long_sentence_keys(text: str) -> set[str]:
    return {sentence_key(s.text) for s in split_sentences(text) if len(normalise(s.text)) >= FINGERPRINT_MIN_CHARS}


@dataclass(frozen=True)
class Fingerprints:
    """Hashes of the stored copies of excluded pages: MinHash signatures and long-sentence keys."""

    pages: list[dict[str, Any]]

    @classmethod
    def load(cls, path: str | Path) -> Fingerprints:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(p, None, f"cannot read fingerprints ({e})") from None
        for i, page in enumerate(data.get("pages", [])):
            if not isinstance(page.get("minhash"), list) or not isinstance(page.get("sentences"), list):
                raise DataError(p, None, f"page {i}: needs 'minhash' and 'sentences' lists")
        return cls(pages=list(data.get("pages", [])))

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps({"pages": self.pages}, ensure_ascii=False, indent=1) + "\n")

    def match(self, text: str) -> str | None:
        """Why ``text`` looks like a copy of an excluded page, or ``None``."""
        if not self.pages:
            return None
        sig = minhash(text)
        keys = _long_sentence_keys(text)
        for page in self.pages:
            j = jaccard(sig, page["minhash"])
            if j >= FINGERPRINT_JACCARD:
                return f"near-duplicate (Jaccard {j:.2f}) of excluded page {page['row_url']}"
            shared = len(keys & set(page["sentences"]))
            if shared >= FINGERPRINT_SENTENCES:
                return f"shares {shared} sentences with excluded page {page['row_url']}"
        return None


def fingerprint_pages(pages: Sequence[tuple[str, str, str]]) -> Fingerprints:
    """Fingerprints of ``(row_url, found_url, text)`` triples: the text itself is not kept."""
    return Fingerprints(
        pages=[
            {
                "row_url": row_url,
                "found_url": found,
                "minhash": minhash(text),
                "sentences": sorted(_long_sentence_keys(text)),
            }
            for row_url, found, text in pages
        ]
    )


def page_exclusion(
    sources: Sequence[ExcludedSource], fingerprints: Fingerprints, facts: Mapping[str, Any], text: str
) -> str | None:
    """Why a page with these facts (``url``, ``locality``, ``level``, ``year``) and text stays out, or ``None``:
    the listed URL or office-year first, then the fingerprints of the listed pages' stored copies."""
    reason = exclusion_reason(
        sources, url=facts["url"], locality=facts["locality"], level=facts["level"], year=int(facts["year"])
    )
    return reason or fingerprints.match(text)
