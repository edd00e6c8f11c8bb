"""``policytag report``: charts and one HTML page from the results folder of ``policytag tag``.

The work is in :mod:`policytag.collection.report` (aggregates), :mod:`policytag.collection.charts`
(PNGs) and :mod:`policytag.collection.report_page` (the page); this module parses, calls and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from policytag.cli.options import add_command, flag

__all__ = ["cmd_report", "register"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def register(sub: Any) -> None:
    """Add ``policytag report`` to the ``policytag`` parser."""
    p = add_command(sub, "report", cmd_report)
    p.add_argument("results", metavar="RESULTS_DIR", help="results folder written by `policytag tag --out`")
    p.add_argument(
        "--out", default="report", metavar="DIR", help="folder for the charts and the page (default: report)"
    )
    p.add_argument("--top", type=_positive, default=5, metavar="N", help="localities per label (default: 5)")
    p.add_argument(
        "--min-sentences",
        type=_positive,
        default=20,
        metavar="N",
        help="sentences a locality needs to be ranked (default: 20; keeps short notices off the top)",
    )
    flag(p, "--ascii-names", "draw places as ASCII ids even when a CJK font is installed (the page has a key)")


def cmd_report(args: argparse.Namespace) -> int:
    """charts and one HTML page from a results folder of `policytag tag`

    Reads RESULTS_DIR/sentences and RESULTS_DIR/documents (Parquet) and writes to --out: four PNG charts
    (share_by_year, share_by_province, top_localities, label_year_heatmap: the share of sentences carrying
    each label), report.html (one self-contained page: the charts embedded, the tables; no outside
    requests) and report.json (the same figures). Documents without a year or province count as 'unknown'.
    """
    from policytag.collection.report_page import PAGE_NAME, write_report

    paths = write_report(
        args.results, args.out, top=args.top, min_sentences=args.min_sentences, cjk=not args.ascii_names
    )
    for path in paths:
        print(path)
    print(f"open {Path(args.out) / PAGE_NAME} in a browser", flush=True)
    return 0
