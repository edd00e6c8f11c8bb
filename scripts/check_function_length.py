"""Fail when a function outside tests is longer than the limit (default 60 lines, decorators excluded).

Ruff has no rule for a function's length in lines (``PLR0915`` counts statements, ``C901``
branches; both are configured too), so this small AST walk is the kit's check. ``make lint`` and
``make test`` run it; ``tests/test_architecture.py`` asserts it passes.

Usage:
    python scripts/check_function_length.py [--max-lines 60] [PATH ...]
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

DEFAULT_PATHS = ("policytag", "benchmarks", "scripts")
SKIP_PARTS = {".venv", ".venv-ls", "tests", "__pycache__", "build"}


def python_files(paths: list[str]) -> Iterator[Path]:
    """Every .py file under ``paths`` (following the package's links once, each file once)."""
    seen: set[Path] = set()
    for root in paths:
        p = Path(root)
        files = [p] if p.is_file() else [Path(d) / n for d, _, names in os.walk(p, followlinks=True) for n in names]
        for f in sorted(f for f in files if f.suffix == ".py"):
            real = f.resolve()
            if real in seen or SKIP_PARTS & set(f.parts):
                continue
            seen.add(real)
            yield f


def long_functions(path: Path, max_lines: int) -> Iterator[tuple[int, str, int]]:
    """(line, qualified name, length in lines) of every function in ``path`` longer than ``max_lines``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[int, str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > max_lines:
                    yield child.lineno, prefix + child.name, length
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS), help="files or folders (default: %(default)s)")
    ap.add_argument("--max-lines", type=int, default=60, help="longest function allowed (default: %(default)s)")
    args = ap.parse_args(argv)
    found = [(f, *hit) for f in python_files(args.paths) for hit in long_functions(f, args.max_lines)]
    for f, line, name, length in found:
        print(f"{f}:{line}: {name} is {length} lines (limit {args.max_lines})")
    if found:
        print(f"{len(found)} function(s) over {args.max_lines} lines", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
