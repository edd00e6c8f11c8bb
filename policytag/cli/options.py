"""What the CLI modules share: one helper per subcommand parser, and each shared option written once.

A flag that several subcommands take (``--taxonomy``, a data file such as ``--gold``, ``--project``,
``--url``/``--api-key``, ``--dry-run``) is added here, so that its name, default and help cannot
drift between subcommands. Data-file defaults are the relative paths of
:data:`policytag.core.paths.LAYOUT`, resolved in the working folder as their help says.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from policytag.core.deprecation import RenamedFlag
from policytag.core.paths import LAYOUT, DataName

__all__ = [
    "Handler",
    "add_command",
    "connection_options",
    "data_option",
    "flag",
    "numerics_option",
    "project_option",
    "taxonomy_option",
    "write_check_options",
]

Handler = Callable[[argparse.Namespace], int]


def add_command(sub: Any, name: str, func: Handler) -> argparse.ArgumentParser:
    """A subcommand parser of ``sub`` that runs ``func`` (``main`` calls ``args.func(args)``).

    The subcommand's help is the first paragraph of ``func``'s docstring and its description the rest,
    so that what a command does is written once, next to the code that does it.
    """
    summary, _, details = inspect.cleandoc(func.__doc__ or "").partition("\n\n")
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=_one_line(summary), description=_one_line(details) or None
    )
    parser.set_defaults(func=func)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def flag(parser: argparse.ArgumentParser, name: str, help: str) -> None:
    """An on/off option (``store_true``)."""
    parser.add_argument(name, action="store_true", help=help)


def data_option(
    parser: argparse.ArgumentParser, name: str, data: DataName, what: str, *, note: str = "", show_default: bool = True
) -> None:
    """``name`` (e.g. ``--gold``) naming a data file, by default the layout's ``data`` path; ``note`` ends the help."""
    shown = f" (default: %(default)s{note})" if show_default else ""
    parser.add_argument(name, default=LAYOUT[data], help=f"{what}{shown}")


def taxonomy_option(parser: argparse.ArgumentParser, default: str = "the kit's") -> None:
    parser.add_argument("--taxonomy", help=f"taxonomy YAML (default: {default})")


def project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, metavar="TITLE", help="project title")


def connection_options(parser: argparse.ArgumentParser) -> None:
    """Where Label Studio is and the key to it: flags, else the variables the SDK reads too."""
    parser.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL)")
    parser.add_argument("--api-key", help="Label Studio API key (default: $LABEL_STUDIO_API_KEY; never printed)")


def write_check_options(parser: argparse.ArgumentParser, target: str, *, json_help: str | None = None) -> None:
    """``--write`` / ``--check`` (and optionally ``--json``) for a generated file: one of them at most."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"rewrite {target}")
    mode.add_argument("--check", action="store_true", help=f"fail if {target} is stale")
    if json_help:
        mode.add_argument("--json", action="store_true", help=json_help)


def numerics_option(parser: argparse.ArgumentParser, choices: Sequence[str], *, default: str | None, help: str) -> None:
    """``--numerics`` (the inference numerics) and its old name ``--precision``, still accepted with a warning."""
    parser.add_argument("--numerics", choices=choices, default=default, help=help)
    parser.add_argument("--precision", dest="numerics", choices=choices, action=RenamedFlag, new="--numerics")
