"""Subcommands ``policytag seeds ...``: ingest harvested pages, fingerprint excluded pages, check, README."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from policytag.cli.options import add_command, data_option, flag, write_check_options
from policytag.core.jsonl import DataError, atomic_write_text, read_jsonl
from policytag.labels.corpus import build_corpus
from policytag.labels.exclusions import fingerprint_pages
from policytag.labels.harvest import HarvestedPage, parse_harvest_file
from policytag.labels.ingest import IngestResult, ingest
from policytag.labels.manifest import ORIGINAL_SOURCE, ManifestRow, read_manifest, text_digest, write_manifest
from policytag.labels.seeds import SeedsFolder, check_seeds, render_readme
from policytag.labels.unlabelled import read_unlabelled_rows, write_unlabelled


def _seeds_option(p: argparse.ArgumentParser) -> None:
    data_option(p, "--seeds", "seeds", "seeds folder")


def register(sub: Any) -> None:
    """Add ``policytag seeds`` to the top-level parser's subparsers."""
    sp = sub.add_parser(
        "seeds",
        help="grow and check the seed corpus: ingest harvested pages, exclusions, manifest, README",
        description="Work with seeds/: its documents, manifest.jsonl, the unlabelled corpus and the exclusion list.",
    )
    ssub = sp.add_subparsers(dest="seeds_command", metavar="ACTION", required=True)

    i = add_command(ssub, "ingest", cmd_ingest)
    i.add_argument("harvest", nargs="+", metavar="HARVEST_FILE", help="harvest files (any number)")
    _seeds_option(i)
    i.add_argument(
        "--target-sentences", type=int, default=3200, help="new labellable sentences to select (default: %(default)s)"
    )
    i.add_argument("--per-locality", type=int, default=6, help="documents per locality at most (default: %(default)s)")
    i.add_argument("--retrieved", default=dt.date.today().isoformat(), help="retrieval date (default: today)")
    data_option(i, "--gold", "gold", "gold set whose label counts the selection fills up")
    flag(i, "--dry-run", "report what would be done; write nothing")

    f = add_command(ssub, "fingerprints", cmd_fingerprints)
    f.add_argument("files", nargs="+", metavar="FILE")
    _seeds_option(f)

    c = add_command(ssub, "check", cmd_check)
    _seeds_option(c)

    r = add_command(ssub, "readme", cmd_readme)
    _seeds_option(r)
    write_check_options(r, "seeds/README.md")


def _read_pages(paths: list[str]) -> tuple[list[HarvestedPage], list[str]]:
    pages, errors = [], []
    for path in paths:
        try:
            pages.extend(parse_harvest_file(path))
        except DataError as e:
            errors.append(str(e))
    return pages, errors


def _unlabelled_rows(
    folder: SeedsFolder, result: IngestResult, manifest: list[ManifestRow], retrieved: str
) -> list[dict[str, Any]]:
    file_of = {r.url: r.file for r in manifest if r.url}
    rows = [
        {
            **{k: v for k, v in r.to_dict().items() if k not in ("file", "truncated", "source")},
            "query": "",
            "seed_file": r.file,
            "duplicate_urls": result.duplicates_of.get(r.file, []),
            "text": (folder.root / r.file).read_text(encoding="utf-8"),
        }
        for r in manifest
        if r.source == ORIGINAL_SOURCE
    ]
    for p in result.kept:
        rows.append(
            {
                **p.facts(),
                "retrieved": retrieved,
                "query": p.query,
                **text_digest(p.text),
                "seed_file": file_of.get(p.url, ""),
                "duplicate_urls": result.duplicates_of.get(p.url, []),
                "text": p.text,
            }
        )
    return rows


def _gold_counts(path: str) -> Counter[str]:
    if not Path(path).is_file():
        return Counter()
    return Counter(label for rec in read_jsonl(path) for label in rec.get("labels", []))


def cmd_ingest(args: argparse.Namespace) -> int:
    """add harvested pages: exclusions, deduplication, selection for labelling, unlabelled corpus

    Read harvest files (=====PAGE===== blocks), drop excluded pages, stubs and duplicates, write every kept page to
    seeds/unlabelled/pages.parquet and the pages selected for labelling to seeds/ with manifest rows. Pass every
    harvest file each time: the unlabelled corpus is rebuilt from them, while documents already in the manifest
    stay.
    """
    folder = SeedsFolder(Path(args.seeds))
    pages, errors = _read_pages(args.harvest)
    for e in errors:
        print(f"skipped file: {e}", file=sys.stderr)
    manifest = read_manifest(folder.manifest)
    texts = folder.texts()
    next_index = 1 + max(int(r.file.split("_", 1)[0]) for r in manifest)
    result = ingest(
        pages,
        manifest=manifest,
        seed_texts=texts,
        excluded=folder.excluded(),
        fingerprints=folder.load_fingerprints(),
        retrieved=args.retrieved,
        target_sentences=args.target_sentences,
        per_locality=args.per_locality,
        label_counts=_gold_counts(args.gold),
        next_index=next_index,
    )
    counts = result.counts()
    print(f"read {len(pages)} pages from {len(args.harvest)} files ({len(errors)} files skipped)")
    print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if args.dry_run:
        return 0
    for row, page in zip(result.selected, result.selected_pages, strict=True):
        atomic_write_text(folder.root / row.file, page.text)
    manifest = [*manifest, *result.selected]
    write_manifest(folder.manifest, manifest)
    write_unlabelled(folder.unlabelled, _unlabelled_rows(folder, result, manifest, args.retrieved))
    report = {
        "harvest_files": len(args.harvest),
        "pages_read": len(pages),
        "counts": counts,
        "file_errors": errors,
        "rejected": [{"url": r.url, "reason": r.reason} for r in result.rejected],
    }
    atomic_write_text(folder.ingest_report, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    print(
        f"wrote {len(result.selected)} new documents to {folder.root}, {len(result.kept)} pages to {folder.unlabelled}"
    )
    return 0


def cmd_fingerprints(args: argparse.Namespace) -> int:
    """hash the stored copies of excluded pages (no text is kept)

    Each FILE holds 'url: ...', 'row_url: ...', a '-----' line and a stored copy of an excluded page; write MinHash
    signatures and sentence keys of them to seeds/excluded_fingerprints.json.
    """
    triples = []
    for path in args.files:
        head, sep, text = Path(path).read_text(encoding="utf-8").partition("\n-----\n")
        fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
        if not sep or "row_url" not in fields or "url" not in fields:
            raise DataError(path, 1, "expected 'url: ...', 'row_url: ...', then a '-----' line and the text")
        triples.append((fields["row_url"], fields["url"], text.rstrip("\n")))
    folder = SeedsFolder(Path(args.seeds))
    fingerprint_pages(triples).save(folder.fingerprints)
    print(f"wrote fingerprints of {len(triples)} stored copies of excluded pages to {folder.fingerprints}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """manifest, files and exclusions agree

    Fail if a document lacks a manifest row (or the reverse), a file differs from its row, or a document or
    unlabelled page matches the exclusion list or an excluded page's fingerprint.
    """
    folder = SeedsFolder(Path(args.seeds))
    unlabelled = read_unlabelled_rows(folder.unlabelled)
    problems = check_seeds(folder, unlabelled=unlabelled)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problems in {folder.root}", file=sys.stderr)
        return 1
    n = len(read_manifest(folder.manifest))
    print(
        f"{folder.root}: {n} documents and {len(unlabelled)} unlabelled pages agree with the manifest "
        "and the exclusions"
    )
    return 0


def cmd_readme(args: argparse.Namespace) -> int:
    """summarise the manifest in seeds/README.md

    Render seeds/README.md.
    """
    folder = SeedsFolder(Path(args.seeds))
    rows = read_manifest(folder.manifest)
    per_doc = Counter(r["doc"] for r in build_corpus(folder.root))
    text = render_readme(rows, per_doc, read_unlabelled_rows(folder.unlabelled))
    readme = folder.root / "README.md"
    if args.check:
        if not readme.is_file() or readme.read_text(encoding="utf-8") != text:
            print(f"{readme} is stale: run `policytag seeds readme --write`", file=sys.stderr)
            return 1
        print(f"{readme} is up to date")
    elif args.write:
        atomic_write_text(readme, text)
        print(f"wrote {readme}")
    else:
        print(text, end="")
    return 0
