"""JSON Lines reading and atomic writing, with errors that name the file and the line.

Example:
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     p = pathlib.Path(folder) / "x.jsonl"
    ...     write_jsonl(p, [{"text": "好"}])
    ...     [rec for _, rec in iter_jsonl(p)]
    [{'text': '好'}]
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "DataError",
    "atomic_write_bytes",
    "atomic_write_text",
    "iter_jsonl",
    "read_json_object",
    "read_jsonl",
    "write_jsonl",
]


class DataError(ValueError):
    """Bad data in a file: carries the file, the 1-based line and, where known, the field."""

    def __init__(self, path: str | Path, line: int | None, message: str, *, field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where = self.path if line is None else f"{self.path}:{line}"
        what = f"field '{field}': {message}" if field else message
        super().__init__(f"{where}: {what}")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; every line must be a JSON object."""
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8")
    except OSError as e:
        raise DataError(p, None, f"cannot open ({e.strerror})") from None
    with fh:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(p, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None
                if not isinstance(obj, dict):
                    raise DataError(p, lineno, f"expected a JSON object, got {type(obj).__name__}")
                yield lineno, obj
        except UnicodeDecodeError as e:
            raise DataError(p, lineno + 1, f"not UTF-8 ({e.reason})") from None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a whole JSONL file into a list of objects."""
    return [obj for _, obj in iter_jsonl(path)]


def read_json_object(path: Path, *, missing: str) -> dict[str, Any]:
    """The JSON object in ``path``: a missing file raises ``FileNotFoundError(missing)``, bad JSON or
    another JSON value a ``ValueError`` naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(missing) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: invalid JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never half."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Atomically write ``records`` as JSON Lines (UTF-8, Chinese kept readable)."""
    lines = [json.dumps(dict(r), ensure_ascii=False) + "\n" for r in records]
    atomic_write_text(path, "".join(lines))
