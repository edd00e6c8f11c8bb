"""The ``policytag`` command, the top layer: one entry point; each area's subcommands in their own module here.

Bad input (:data:`USER_ERRORS`) is reported in one line with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from policytag.core.jsonl import DataError
from policytag.core.taxonomy import TaxonomyError
from policytag.core.version import __version__
from policytag.labels.documents import DocumentError

# Errors that mean "bad input": reported in one line, exit status 2, no traceback.
USER_ERRORS: tuple[type[Exception], ...] = (DataError, DocumentError, TaxonomyError, FileNotFoundError, ValueError)


def build_parser() -> argparse.ArgumentParser:
    from policytag.cli import collection as collection_cli
    from policytag.cli import labels as labels_cli
    from policytag.cli import report as report_cli
    from policytag.cli import serving as serving_cli
    from policytag.cli import training as training_cli

    parser = argparse.ArgumentParser(
        prog="policytag",
        description="Tag Chinese rule-of-law report sentences by policy category: corpus, labels, training, serving.",
    )
    parser.add_argument("--version", action="version", version=f"policytag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    labels_cli.register(sub)
    training_cli.register(sub)
    serving_cli.register(sub)
    collection_cli.register(sub)
    report_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as e:
        print(f"policytag {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
