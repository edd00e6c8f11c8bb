"""The seeds folder as a whole: its manifest, its exclusion check and its generated README.

* :func:`check_seeds` lists every problem: a document without a manifest row or a row without its
  file, a file whose bytes differ from its row, and any document or unlabelled page that the
  exclusion rules (:mod:`policytag.labels.exclusions`) keep out of the project.
* :func:`render_readme` writes ``seeds/README.md`` from the manifest, the sentence records and the
  unlabelled corpus: counts by province, year, type and level, and the diversity goals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.core.paths import SEEDS_LAYOUT
from policytag.labels.corpus import document_paths
from policytag.labels.exclusions import ExcludedSource, Fingerprints, load_excluded, page_exclusion
from policytag.labels.manifest import ORIGINAL_SOURCE, ManifestRow, read_manifest

__all__ = ["SeedsFolder", "check_seeds", "render_readme"]


@dataclass(frozen=True)
class SeedsFolder:
    """A seeds folder's files by their conventional names (:data:`policytag.core.paths.SEEDS_LAYOUT`)."""

    root: Path
    manifest: Path = field(init=False)
    excluded_csv: Path = field(init=False)
    fingerprints: Path = field(init=False)
    unlabelled: Path = field(init=False)
    ingest_report: Path = field(init=False)

    def __post_init__(self) -> None:
        # The layout is written once, in the paths module; each name becomes a path under this root.
        for name, relative in SEEDS_LAYOUT.items():
            object.__setattr__(self, name, self.root / relative)

    def excluded(self) -> list[ExcludedSource]:
        return load_excluded(self.excluded_csv)

    def load_fingerprints(self) -> Fingerprints:
        return Fingerprints.load(self.fingerprints) if self.fingerprints.is_file() else Fingerprints(pages=[])

    def texts(self) -> dict[str, str]:
        """Each document file's name → its UTF-8 text."""
        return {p.name: p.read_text(encoding="utf-8") for p in document_paths(self.root)}


def _page_problem(
    what: str, facts: dict[str, Any], text: str, excluded: Sequence[ExcludedSource], fingerprints: Fingerprints
) -> str | None:
    reason = page_exclusion(excluded, fingerprints, facts, text)
    return f"{what}: {reason}" if reason else None


def check_seeds(folder: SeedsFolder, *, unlabelled: Sequence[dict[str, Any]] = ()) -> list[str]:
    """Every problem of the seeds folder (and of the unlabelled rows given), one line each."""
    problems: list[str] = []
    rows = read_manifest(folder.manifest)
    files = {p.name for p in document_paths(folder.root)}
    named = {r.file for r in rows}
    problems += [f"{folder.root / f}: no row in {folder.manifest}" for f in sorted(files - named)]
    problems += [f"{folder.manifest}: row for {f}, which is not in {folder.root}" for f in sorted(named - files)]
    excluded, fingerprints = folder.excluded(), folder.load_fingerprints()
    for line, row in enumerate(rows, start=1):
        if row.file not in files:
            continue
        try:
            row.check_file(folder.root, path=folder.manifest, line=line)
        except ValueError as e:
            problems.append(str(e))
            continue
        text = (folder.root / row.file).read_text(encoding="utf-8")
        problem = _page_problem(f"{folder.manifest}:{line} ({row.file})", row.to_dict(), text, excluded, fingerprints)
        if problem:
            problems.append(problem)
    for i, page in enumerate(unlabelled):
        problem = _page_problem(
            f"{folder.unlabelled} row {i} ({page['url']})", page, page["text"], excluded, fingerprints
        )
        if problem:
            problems.append(problem)
    return problems


def _table(title: str, counts: Counter[Any], *, key_name: str, extra: dict[Any, str] | None = None) -> list[str]:
    head = f"| {key_name} | documents |" + (" localities |" if extra else "")
    lines = [f"**{title}**", "", head, "|---|---:|" + ("---:|" if extra else "")]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        lines.append(f"| {key} | {n} |" + (f" {extra[key]} |" if extra else ""))
    return [*lines, ""]


def _goals(rows: Sequence[ManifestRow], sentences_per_doc: Counter[str]) -> list[tuple[str, str, bool]]:
    new = [r for r in rows if r.source != ORIGINAL_SOURCE]
    years = Counter(r.year for r in rows)
    per_locality: Counter[str] = Counter()
    for r in rows:
        per_locality[f"{r.province}/{r.locality}"] += sentences_per_doc.get(r.doc, 0)
    total = sum(per_locality.values()) or 1
    top_loc, top_n = per_locality.most_common(1)[0] if per_locality else ("-", 0)
    reports = sum(r.doc_type in ("annual_report", "work_summary") for r in rows)
    busy_years = sorted(y for y, n in years.items() if n >= 20)
    return [
        ("new documents ≥ 400", f"{len(new)}", len(new) >= 400),
        (
            "distinct localities ≥ 200",
            f"{len({(r.province, r.locality) for r in rows})}",
            len({(r.province, r.locality) for r in rows}) >= 200,
        ),
        ("provinces ≥ 25 of 31", f"{len({r.province for r in rows})}", len({r.province for r in rows}) >= 25),
        ("all three levels", ", ".join(sorted({r.level for r in rows})), len({r.level for r in rows}) == 3),
        (
            "≥ 6 subject years with ≥ 20 documents",
            f"{len(busy_years)} ({', '.join(map(str, busy_years))})",
            len(busy_years) >= 6,
        ),
        ("no locality above 3 % of sentences", f"largest: {top_loc} {top_n / total:.1%}", top_n / total <= 0.03),
        ("annual reports and work summaries ≥ 40 %", f"{reports / max(len(rows), 1):.1%}", reports >= 0.4 * len(rows)),
    ]


def render_readme(
    rows: Sequence[ManifestRow], sentences_per_doc: Counter[str], unlabelled: Sequence[dict[str, Any]]
) -> str:
    """The text of ``seeds/README.md``."""
    provinces = Counter(r.province for r in rows)
    localities = {p: len({r.locality for r in rows if r.province == p}) for p in provinces}
    lines = [
        "# Seed documents",
        "",
        "<!-- generated by `policytag seeds readme --write` from manifest.jsonl; do not edit by hand -->",
        "",
        "The reports the labelled set is made from, one UTF-8 `.txt` file each, saved as retrieved: page chrome",
        "(navigation, bylines, footers) included, since real documents have it and the model must learn to call",
        "it `other`. `manifest.jsonl` says where each came from (`url`, `title`, `issuer`, `locality`, `province`,",
        "`level`, `year` of the subject, `doc_type`, `retrieved`, `chars`, `sha256`, `truncated`, `source`).",
        "Harvested pages are the openings of stored public pages: `truncated` is true and the cut-off last",
        "fragment is not labelled. `policytag corpus seeds` splits them into `labels/sentences.jsonl`.",
        "",
        "Kept out: the pages of `excluded_sources.csv` (a copy of `shared/EXCLUDED_SOURCES.md`), their copies",
        "and other documents of the same office within a year; `policytag seeds check` and the tests enforce it",
        "(`excluded_fingerprints.json` holds hashes of those pages' stored copies, never their text).",
        "",
        f"**{len(rows)} documents** ({sum(r.source == ORIGINAL_SOURCE for r in rows)} original seeds), "
        f"**{len({(r.province, r.locality) for r in rows})} localities** in **{len(provinces)} provinces**, "
        f"{sum(sentences_per_doc.values())} sentences, {sum(r.chars for r in rows):,} characters.",
        "",
        "| goal | now | met |",
        "|---|---|---|",
    ]
    lines += [f"| {goal} | {now} | {'yes' if ok else '**no**'} |" for goal, now, ok in _goals(rows, sentences_per_doc)]
    lines.append("")
    lines += _table("By province", provinces, key_name="province", extra={p: str(n) for p, n in localities.items()})
    lines += _table("By subject year", Counter(r.year for r in rows), key_name="year")
    lines += _table("By document type", Counter(r.doc_type for r in rows), key_name="type")
    lines += _table("By level of the issuing body", Counter(r.level for r in rows), key_name="level")
    if unlabelled:
        lines += [
            "## Unlabelled corpus",
            "",
            f"`unlabelled/pages.parquet`: **{len(unlabelled)} pages**, {sum(int(p['chars']) for p in unlabelled):,} "
            f"characters, {len({(p['province'], p['locality']) for p in unlabelled})} localities in "
            f"{len({p['province'] for p in unlabelled})} provinces; every harvested page kept after exclusions and "
            "deduplication (MinHash over character 5-grams, Jaccard ≥ 0.5), with its provenance and the URLs of "
            "the copies dropped. `ingest_report.json` lists every page dropped and why.",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"
