"""``seeds/manifest.jsonl``: where every seed document came from.

One row per document file of ``seeds/``: ``file``, ``url``, ``title``, ``issuer`` (the office),
``locality`` (the issuing body's place below the province, e.g. ``遂宁市船山区``; the province's
own name for a province-level body), ``province``, ``level`` (``province`` / ``city`` /
``county``), ``year`` (the year the document is about), ``doc_type``, ``retrieved`` (date),
``chars``, ``sha256`` of the file's bytes, ``truncated`` (the text is the opening of a longer
page, so its last fragment is cut mid-sentence) and ``source`` (how it was obtained). Reading
checks every field and names the file, line and field that is wrong.

Example:
    >>> row = ManifestRow.from_text(
    ...     file="005_x.txt", text="某县司法局2022年工作总结。", url="https://example.org/a", title="工作总结",
    ...     issuer="某县司法局", locality="某市某县", province="四川省", level="county", year=2022,
    ...     doc_type="work_summary", retrieved="2026-12-03", truncated=False, source="test")
    >>> row.chars, row.sha256[:8]
    (15, '9cb6bdb6')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policytag.core.jsonl import DataError, atomic_write_text, iter_jsonl

__all__ = [
    "DOC_TYPES",
    "LEVELS",
    "ORIGINAL_SOURCE",
    "ManifestRow",
    "PageFacts",
    "read_manifest",
    "text_digest",
    "write_manifest",
]

LEVELS = ("province", "city", "county")
# The ``source`` of the five reports the project started from (copies of ``shared/seeds``).
ORIGINAL_SOURCE = "shared seeds"
DOC_TYPES = ("annual_report", "work_summary", "plan", "news", "other")
# The kit's corpus is about 2014 onwards; anything outside this range is a typo, not a finding.
YEAR_RANGE = (1990, 2030)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def text_digest(text: str) -> dict[str, Any]:
    """``chars`` and ``sha256`` (of the UTF-8 bytes) of a document's text, as the manifest records them."""
    return {"chars": len(text), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


@dataclass(frozen=True, slots=True, kw_only=True)
class PageFacts:
    """What a page is: its address and title, the office that issued it, its place and level, the year it is
    about and its type. A harvested page and a seed document's manifest row both carry these."""

    url: str
    title: str
    issuer: str
    locality: str
    province: str
    level: str
    year: int
    doc_type: str

    def facts(self) -> dict[str, Any]:
        """The facts alone, as a dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(PageFacts)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestRow(PageFacts):
    """The provenance of one seed document: its page facts, its file and how it was obtained."""

    file: str
    retrieved: str
    chars: int
    sha256: str
    truncated: bool
    source: str

    @property
    def doc(self) -> str:
        """The document id used in sentence records: the file stem."""
        return Path(self.file).stem

    @classmethod
    def from_text(cls, *, file: str, text: str, **fields: Any) -> ManifestRow:
        """A row for a document whose UTF-8 ``text`` is written to ``file``; ``chars``/``sha256`` are derived."""
        return cls(file=file, **text_digest(text), **fields)

    @classmethod
    def from_dict(cls, rec: dict[str, Any], *, path: str | Path = "<manifest>", line: int | None = None) -> ManifestRow:
        """Validate one manifest object; errors name ``path``, ``line`` and the field."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in rec]
        if missing:
            raise DataError(path, line, "missing", field=missing[0])
        unknown = sorted(set(rec) - set(names))
        if unknown:
            raise DataError(path, line, f"unknown field (known: {', '.join(names)})", field=unknown[0])
        for name in ("file", "title", "issuer", "locality", "province", "source"):
            if not isinstance(rec[name], str) or not rec[name].strip():
                raise DataError(path, line, "must be a non-empty string", field=name)
        if not isinstance(rec["url"], str):
            raise DataError(path, line, "must be a string (empty when the page printed no address)", field="url")
        if rec["level"] not in LEVELS:
            raise DataError(path, line, f"{rec['level']!r} is not one of {', '.join(LEVELS)}", field="level")
        if rec["doc_type"] not in DOC_TYPES:
            raise DataError(path, line, f"{rec['doc_type']!r} is not one of {', '.join(DOC_TYPES)}", field="doc_type")
        year = rec["year"]
        if not isinstance(year, int) or isinstance(year, bool) or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise DataError(path, line, f"{year!r} is not a year in {YEAR_RANGE[0]}..{YEAR_RANGE[1]}", field="year")
        if not isinstance(rec["retrieved"], str) or not _DATE.match(rec["retrieved"]):
            raise DataError(path, line, f"{rec['retrieved']!r} is not a YYYY-MM-DD date", field="retrieved")
        if not isinstance(rec["chars"], int) or rec["chars"] <= 0:
            raise DataError(path, line, "must be a positive integer", field="chars")
        if not isinstance(rec["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", rec["sha256"]):
            raise DataError(path, line, "must be 64 lowercase hex digits", field="sha256")
        if not isinstance(rec["truncated"], bool):
            raise DataError(path, line, "must be true or false", field="truncated")
        return cls(**{n: rec[n] for n in names})

    def to_dict(self) -> dict[str, Any]:
        """The row as the manifest stores it: ``file`` first, then the facts and the rest."""
        data = dataclasses.asdict(self)
        return {"file": data.pop("file"), **data}

    def check_file(self, folder: str | Path, *, path: str | Path = "<manifest>", line: int | None = None) -> None:
        """Fail unless ``folder/file`` exists and its bytes and length match ``sha256`` and ``chars``."""
        p = Path(folder) / self.file
        try:
            data = p.read_bytes()
        except OSError as e:
            raise DataError(path, line, f"{p}: cannot read ({e.strerror})", field="file") from None
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise DataError(path, line, f"{p}: the file's sha256 differs from the manifest's", field="sha256")
        if len(data.decode("utf-8")) != self.chars:
            raise DataError(path, line, f"{p}: the file has another number of characters", field="chars")


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Read and validate a manifest; a file named twice is an error."""
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for line, rec in iter_jsonl(path):
        row = ManifestRow.from_dict(rec, path=path, line=line)
        if row.file in seen:
            raise DataError(path, line, f"{row.file} already has a row (line {seen[row.file]})", field="file")
        seen[row.file] = line
        rows.append(row)
    return rows


def write_manifest(path: str | Path, rows: Iterable[ManifestRow]) -> None:
    """Atomically write ``rows``, sorted by file name."""
    ordered = sorted(rows, key=lambda r: r.file)
    atomic_write_text(path, "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in ordered))
