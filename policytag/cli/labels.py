"""Subcommands ``policytag corpus`` and ``policytag labels ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from policytag.core.jsonl import DataError, atomic_write_text, read_jsonl, write_jsonl
from policytag.core.taxonomy import load_taxonomy
from policytag.labels.corpus import build_corpus
from policytag.labels.dataset import read_labelled
from policytag.labels.gold import build_gold, read_passes
from policytag.labels.manifest import ManifestRow, read_manifest
from policytag.labels.stats import compute_stats, render_markdown, replace_section, summary_lines

_DEFAULTS = {
    "sentences": "labels/sentences.jsonl",
    "gold": "labels/gold.jsonl",
    "passes": "labels/passes",
    "readme": "labels/README.md",
    "manifest": "seeds/manifest.jsonl",
}


def register(sub: Any) -> None:
    """Add this package's subcommands to the top-level parser's subparsers."""
    p = sub.add_parser(
        "corpus",
        help="split seed documents into sentences with provenance",
        description="Split every .txt/.html/.htm document of SEEDS_DIR into sentences "
        "(id, doc, index, start, end, text) with exact character offsets.",
    )
    p.add_argument(
        "seeds_dir", nargs="?", default="seeds", metavar="SEEDS_DIR", help="folder of documents (default: seeds)"
    )
    p.add_argument("--out", default=_DEFAULTS["sentences"], help="output JSONL (default: %(default)s)")
    p.set_defaults(func=cmd_corpus)

    lp = sub.add_parser(
        "labels", help="taxonomy, gold set, statistics, validation", description="Work with the label files."
    )
    lsub = lp.add_subparsers(dest="labels_command", metavar="ACTION", required=True)

    t = lsub.add_parser("taxonomy", help="print the taxonomy as a table", description="Print the taxonomy as a table.")
    t.add_argument("--taxonomy", help="taxonomy YAML (default: the kit's labels/taxonomy.yaml)")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    t.set_defaults(func=cmd_taxonomy)

    v = lsub.add_parser(
        "validate",
        help="check labelled JSONL files against the taxonomy",
        description="Check that every line of each FILE has a text and a valid label set.",
    )
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--taxonomy", help="taxonomy YAML (default: the kit's)")
    v.set_defaults(func=cmd_validate)

    g = lsub.add_parser(
        "gold",
        help="build gold.jsonl from the two annotation passes and the adjudication",
        description="Merge labels/passes/{pass_a,pass_b,adjudication}.jsonl into the gold set; every sentence of "
        "the corpus must be labelled and every disagreement adjudicated.",
    )
    g.add_argument("--sentences", default=_DEFAULTS["sentences"], help="corpus JSONL (default: %(default)s)")
    g.add_argument("--passes", default=_DEFAULTS["passes"], help="folder of pass files (default: %(default)s)")
    g.add_argument("--out", default=_DEFAULTS["gold"], help="gold JSONL to write (default: %(default)s)")
    g.add_argument(
        "--manifest",
        default=_DEFAULTS["manifest"],
        help="seeds manifest: each record gets its document's locality and province (default: %(default)s; "
        "skipped when the file does not exist)",
    )
    g.add_argument("--check", action="store_true", help="write nothing; fail if --out differs from what would be built")
    g.set_defaults(func=cmd_gold)

    s = lsub.add_parser(
        "stats",
        help="label statistics and two-pass agreement",
        description="Recompute per-label and per-document counts, labels per sentence and the agreement of the two "
        "annotation passes (exact match, per-label Cohen's kappa) from the files.",
    )
    s.add_argument("--gold", default=_DEFAULTS["gold"], help="gold JSONL (default: %(default)s)")
    s.add_argument("--passes", default=_DEFAULTS["passes"], help="folder of pass files (default: %(default)s)")
    s.add_argument("--readme", default=_DEFAULTS["readme"], help="README to update (default: %(default)s)")
    s.add_argument("--manifest", default=_DEFAULTS["manifest"], help="seeds manifest (default: %(default)s)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the statistics section of --readme")
    mode.add_argument("--check", action="store_true", help="fail if the statistics section of --readme is stale")
    mode.add_argument("--json", action="store_true", help="print the statistics as JSON")
    s.set_defaults(func=cmd_stats)

    # The Label Studio loop: push, pull, agreement, server (labels/labelstudio/).
    from policytag.cli.labelstudio import register as register_labelstudio

    register_labelstudio(lsub)

    from policytag.cli.seeds import register as register_seeds

    register_seeds(sub)


def cmd_corpus(args: argparse.Namespace) -> int:
    records = build_corpus(args.seeds_dir, progress=True)
    write_jsonl(args.out, records)
    per_doc = Counter(r["doc"] for r in records)
    for doc, n in sorted(per_doc.items()):
        print(f"  {doc}: {n} sentences")
    print(f"wrote {len(records)} sentences from {len(per_doc)} documents to {args.out}")
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
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
