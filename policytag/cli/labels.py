"""Subcommands ``policytag corpus`` and ``policytag labels ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from policytag.cli.labelstudio import register as register_labelstudio
from policytag.cli.options import add_command, data_option, flag, taxonomy_option, write_check_options
from policytag.cli.seeds import register as register_seeds
from policytag.core.jsonl import DataError, atomic_write_text, read_jsonl, write_jsonl
from policytag.core.paths import LAYOUT
from policytag.core.taxonomy import load_taxonomy
from policytag.labels.corpus import build_corpus
from policytag.labels.dataset import read_labelled
from policytag.labels.gold import build_gold, read_passes
from policytag.labels.manifest import ManifestRow, read_manifest
from policytag.labels.stats import compute_stats, render_markdown, replace_section, summary_lines


def register(sub: Any) -> None:
    """Add ``corpus``, ``labels ...`` (with the Label Studio loop) and ``seeds ...`` to the top-level subparsers."""
    _add_corpus(sub)
    lp = sub.add_parser(
        "labels", help="taxonomy, gold set, statistics, validation", description="Work with the label files."
    )
    lsub = lp.add_subparsers(dest="labels_command", metavar="ACTION", required=True)
    _add_taxonomy(lsub)
    _add_validate(lsub)
    _add_gold(lsub)
    _add_stats(lsub)
    register_labelstudio(lsub)  # the Label Studio loop: push, pull, agreement, connect, server
    register_seeds(sub)


def _add_corpus(sub: Any) -> None:
    p = add_command(sub, "corpus", cmd_corpus)
    p.add_argument(
        "seeds_dir",
        nargs="?",
        default=LAYOUT["seeds"],
        metavar="SEEDS_DIR",
        help="folder of documents (default: seeds)",
    )
    data_option(p, "--out", "sentences", "output JSONL")


def _add_taxonomy(lsub: Any) -> None:
    t = add_command(lsub, "taxonomy", cmd_taxonomy)
    taxonomy_option(t, default=f"the kit's {LAYOUT['taxonomy']}")
    flag(t, "--json", "print JSON instead of a table")


def _add_validate(lsub: Any) -> None:
    v = add_command(lsub, "validate", cmd_validate)
    v.add_argument("files", nargs="+", metavar="FILE")
    taxonomy_option(v)


def _add_gold(lsub: Any) -> None:
    g = add_command(lsub, "gold", cmd_gold)
    data_option(g, "--sentences", "sentences", "corpus JSONL")
    data_option(g, "--passes", "passes", "folder of pass files")
    data_option(g, "--out", "gold", "gold JSONL to write")
    note = "; skipped when the file does not exist"
    data_option(
        g, "--manifest", "manifest", "seeds manifest: each record gets its document's locality and province", note=note
    )
    flag(g, "--check", "write nothing; fail if --out differs from what would be built")


def _add_stats(lsub: Any) -> None:
    s = add_command(lsub, "stats", cmd_stats)
    data_option(s, "--gold", "gold", "gold JSONL")
    data_option(s, "--passes", "passes", "folder of pass files")
    data_option(s, "--readme", "labels_readme", "README to update")
    data_option(s, "--manifest", "manifest", "seeds manifest")
    write_check_options(s, "the statistics section of --readme", json_help="print the statistics as JSON")


def cmd_corpus(args: argparse.Namespace) -> int:
    """split seed documents into sentences with provenance

    Split every .txt/.html/.htm document of SEEDS_DIR into sentences (id, doc, index, start, end, text) with exact
    character offsets.
    """
    records = build_corpus(args.seeds_dir, progress=True)
    write_jsonl(args.out, records)
    per_doc = Counter(r["doc"] for r in records)
    for doc, n in sorted(per_doc.items()):
        print(f"  {doc}: {n} sentences")
    print(f"wrote {len(records)} sentences from {len(per_doc)} documents to {args.out}")
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    """print the taxonomy as a table

    Print the taxonomy as a table.
    """
    tax = load_taxonomy(args.taxonomy)
    if args.json:
        print(json.dumps(tax.to_dict(), ensure_ascii=False, indent=2))
        return 0
    width = max(len(label.id) for label in tax.labels)
    print(f"{'id':<{width}}  中文名            English")
    for label in tax.labels:
        # CJK characters take two columns in a terminal: pad by display width.
        zh_pad = 16 - 2 * len(label.zh)
        print(f"{label.id:<{width}}  {label.zh}{' ' * max(zh_pad, 1)}  {label.en}")
    print(f"\n{len(tax)} labels; 'other' is exclusive. Descriptions and rules: policytag labels taxonomy --json")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """check labelled JSONL files against the taxonomy

    Check that every line of each FILE has a text and a valid label set.
    """
    tax = load_taxonomy(args.taxonomy)
    for f in args.files:
        records = read_labelled(f, tax)
        print(f"{f}: {len(records)} lines OK")
    return 0


def _documents(manifest: str) -> dict[str, ManifestRow] | None:
    return {row.doc: row for row in read_manifest(manifest)} if Path(manifest).is_file() else None


def _gold_from_files(sentences: str, passes_dir: str, manifest: str) -> list[dict[str, Any]]:
    tax = load_taxonomy()
    return build_gold(read_jsonl(sentences), read_passes(passes_dir, tax), documents=_documents(manifest))


def cmd_gold(args: argparse.Namespace) -> int:
    """build gold.jsonl from the two annotation passes and the adjudication

    Merge labels/passes/{pass_a,pass_b,adjudication}.jsonl into the gold set; every sentence of the corpus must be
    labelled and every disagreement adjudicated.
    """
    gold = _gold_from_files(args.sentences, args.passes, args.manifest)
    if args.check:
        current = read_jsonl(args.out) if Path(args.out).exists() else []
        if current != gold:
            print(f"{args.out} is stale: run `policytag labels gold`", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(gold)} sentences)")
        return 0
    write_jsonl(args.out, gold)
    hard = sum(1 for g in gold if g.get("hard"))
    settled = sum(1 for g in gold if g["annotator"] == "adjudicator")
    print(f"wrote {len(gold)} gold sentences ({hard} disagreements, {settled} adjudicated) to {args.out}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """label statistics and two-pass agreement

    Recompute per-label and per-document counts, labels per sentence and the agreement of the two annotation passes
    (exact match, per-label Cohen's kappa) from the files.
    """
    tax = load_taxonomy()
    gold = read_labelled(args.gold, tax, require_doc=True)
    passes = read_passes(args.passes, tax)
    missing = [g["id"] for g in gold if g["id"] not in passes.a or g["id"] not in passes.b]
    if missing:
        raise DataError(args.gold, None, f"{len(missing)} gold sentences have no pass labels, e.g. {missing[0]}")
    stats = compute_stats(gold, passes, tax, documents=_documents(args.manifest))
    if args.json:
        print(json.dumps(stats.__dict__, ensure_ascii=False, indent=2, default=str))
        return 0
    body = render_markdown(stats, tax)
    if args.write or args.check:
        readme = Path(args.readme)
        old = readme.read_text(encoding="utf-8")
        new = replace_section(old, body, path=readme)
        if args.check:
            if new != old:
                print(f"{readme}: statistics are stale; run `policytag labels stats --write`", file=sys.stderr)
                return 1
            print(f"{readme}: statistics are up to date")
            print("\n".join(summary_lines(stats)))
            return 0
        atomic_write_text(readme, new)
        print(f"updated the statistics in {readme}")
        return 0
    print(body, end="")
    return 0
