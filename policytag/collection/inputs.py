"""The files a collection job tags: ``INPUT...`` (files, folders, globs) expanded into one sorted list.

A folder is read recursively and gives only the files whose suffix the kit reads
(:data:`SUPPORTED_SUFFIXES`); hidden files and folders (a leading ``.``) are left out, so editor backups
and a results folder's temporaries are never tagged. A glob (``reports/**/*.pdf``) gives the supported
files it matches. A file named explicitly is always kept, whatever its suffix: the job reports an
unsupported one as a failure (``errors.jsonl``) rather than dropping it silently. A path that does not
exist, or a glob that matches nothing, is a ``ValueError`` naming it, before any work starts.

Every file is listed once (the same file reached twice, e.g. through a folder and by name, keeps the
first path), sorted by the path recorded in the tables, which is the path as the user named it
(``reports/2021/a.txt`` for a file found in ``reports``), so that re-runs from the same folder find
their earlier rows.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.txt", "a.md", "notes.xlsx", "sub/c.html"):
    ...     (d / name).parent.mkdir(exist_ok=True)
    ...     _ = (d / name).write_text("x")
    >>> [f.path.relative_to(d).as_posix() for f in expand_inputs([d])]
    ['a.md', 'b.txt', 'sub/c.html']
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from policytag.collection.engine import InputFile
from policytag.labels.documents import DOCUMENT_SUFFIXES

__all__ = ["SUPPORTED_SUFFIXES", "expand_inputs", "file_sha256", "is_supported"]

# What the readers read (one list, the readers'): .txt .md .html .htm .pdf .docx.
SUPPORTED_SUFFIXES: tuple[str, ...] = DOCUMENT_SUFFIXES
_GLOB_CHARS = frozenset("*?[")


def is_supported(path: str | Path) -> bool:
    """Whether the kit reads files with ``path``'s suffix (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _walk(folder: Path, shown: str) -> Iterator[tuple[Path, str]]:
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and is_supported(path) and not _hidden(rel):
            yield path, str(Path(shown) / rel)


def _expand_one(given: str) -> Iterator[tuple[Path, str]]:
    path = Path(given)
    if path.is_dir():
        yield from _walk(path, given)
    elif path.is_file():
        yield path, given
    elif _GLOB_CHARS & set(given):
        matches = sorted(glob.glob(given, recursive=True))  # noqa: PTH207 - absolute patterns too
        found = False
        for match in matches:
            m = Path(match)
            if m.is_dir():
                found = True
                yield from _walk(m, match)
            elif m.is_file() and is_supported(m):
                found = True
                yield m, match
        if not found:
            raise ValueError(f"{given}: the pattern matches no file the kit reads ({', '.join(SUPPORTED_SUFFIXES)})")
    else:
        raise ValueError(f"{given}: no such file or folder")


def expand_inputs(inputs: Iterable[str | Path]) -> list[InputFile]:
    """The files named by ``inputs`` (files, folders, globs): each once, sorted by ``source_path``.

    Raises:
        ValueError: no input given, or an input that names nothing (the message names it).
    """
    given: Sequence[str | Path] = list(inputs)
    if not given:
        raise ValueError("no input: name files, folders or glob patterns")
    seen: set[Path] = set()
    files: list[InputFile] = []
    for item in given:
        for path, shown in _expand_one(str(item)):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                files.append(InputFile(path=path, source_path=shown))
    return sorted(files, key=lambda f: f.source_path)


def file_sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes, read in chunks (a document's identity in the results).

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
