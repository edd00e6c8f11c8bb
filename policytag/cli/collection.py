"""``policytag tag``: tag a whole collection of reports into Parquet tables (:mod:`policytag.collection.job`)."""

from __future__ import annotations

import argparse
import os
import textwrap
from typing import TYPE_CHECKING, Any

from policytag.cli.options import add_command, flag

if TYPE_CHECKING:
    from policytag.collection.job import TagSummary

__all__ = ["register"]

EXAMPLE = """example:
  policytag tag reports/ 'more/**/*.pdf' --model models/demo --out results/
  (run it again after a kill, or after adding files: only new and changed files are tagged)

output (RESULTS_DIR): sentences/*.parquet and documents/*.parquet (Parquet datasets), errors.jsonl,
manifest.json. Exit status: 0; 1 with --strict when some file failed; 2 on bad arguments."""

# Failures listed on screen; the rest are in errors.jsonl.
_SHOWN_FAILURES = 10


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _default_workers() -> int:
    """Reading workers: every core but the one the model runs on, at most 8."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def register(sub: Any) -> None:
    """Add ``tag`` to the ``policytag`` parser."""
    t = add_command(sub, "tag", cmd_tag)
    t.formatter_class = argparse.RawDescriptionHelpFormatter  # keeps the example's lines
    t.description = textwrap.fill(t.description or "", width=100)
    t.epilog = EXAMPLE
    t.add_argument("inputs", nargs="+", metavar="INPUT", help="document files, folders (recursive) or glob patterns")
    t.add_argument("--model", required=True, metavar="DIR", help="model folder (any kind)")
    t.add_argument("--out", required=True, metavar="RESULTS_DIR", help="results folder (created; re-runs resume)")
    t.add_argument("--engine", choices=["local", "ray"], default="local", help="where the job runs (default: local)")
    t.add_argument(
        "--workers",
        type=_positive,
        default=_default_workers(),
        metavar="N",
        help="processes reading and splitting documents; with --engine ray also the model actors (default: cores "
        "- 1, at most 8: %(default)s here)",
    )
    t.add_argument(
        "--batch-sentences",
        type=_positive,
        default=2048,
        metavar="N",
        help="sentences, from many documents, per call of the model (default: %(default)s)",
    )
    t.add_argument(
        "--shard-documents",
        type=_positive,
        default=64,
        metavar="N",
        help="documents per result shard: at most this much work is lost to a kill (default: %(default)s)",
    )
    flag(t, "--strict", "exit with status 1 when any file failed (failures are always in errors.jsonl)")
    flag(t, "--no-normalize", "let the model read traditional characters as they are (default: as simplified)")
    t.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to join with --engine ray (default: a local one)")


def cmd_tag(args: argparse.Namespace) -> int:
    """tag every sentence of a collection of reports into Parquet tables (resumable)

    Reads .txt, .md, .html/.htm, .pdf (text layer) and .docx files, splits them into sentences with offsets,
    tags them with a model folder and writes two Parquet tables into RESULTS_DIR: sentences (one row per
    sentence: offsets, text, labels, per-label scores) and documents (one row per file: sha256, format,
    title, locality, year, each label's share). Files whose sha256 is already in RESULTS_DIR are skipped, so
    a killed job resumes; a file that cannot be read is listed in errors.jsonl and the job goes on.
    """
    from policytag.collection.job import tag_collection

    if args.ray_address and args.engine != "ray":
        raise ValueError("--ray-address needs --engine ray")
    summary = tag_collection(
        args.inputs,
        model=args.model,
        out=args.out,
        engine=args.engine,
        strict=args.strict,
        workers=args.workers,
        batch_sentences=args.batch_sentences,
        shard_documents=args.shard_documents,
        normalize=not args.no_normalize,
        ray_address=args.ray_address,
    )
    print(_summary_text(summary))
    return summary.exit_status


def _summary_text(summary: TagSummary) -> str:
    """One screen: what this run did, what failed (the first few), what the results folder holds."""
    lines = [
        f"tagged {summary.tagged} documents ({summary.sentences:,} sentences) in {summary.seconds:.1f} s, "
        f"{summary.sentences_per_second:,.0f} sentences/s while tagging (engine {summary.engine})",
        f"inputs {summary.inputs}: {summary.already_done} already done, {summary.duplicates} duplicates of "
        f"another input, {summary.failed} failed",
    ]
    if summary.stale_removed:
        lines.append(f"removed the old rows of {summary.stale_removed} changed files")
    if summary.failures:
        lines.append(f"failed (all in {summary.results / 'errors.jsonl'}):")
        lines += [f"  {f.source_path}: {f.reason}" for f in summary.failures[:_SHOWN_FAILURES]]
        if summary.failed > _SHOWN_FAILURES:
            lines.append(f"  ... and {summary.failed - _SHOWN_FAILURES} more")
    lines.append(
        f"results {summary.results}: {summary.total_documents} documents, {summary.total_sentences:,} sentences "
        "(sentences/, documents/, errors.jsonl, manifest.json)"
    )
    return "\n".join(lines)
