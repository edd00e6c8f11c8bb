"""Writing model folders atomically: build beside the target, then swap it in with renames.

A crash at any point leaves either the previous folder or the new complete one, never a half
written folder under the target name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_folder", "write_json"]


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target``, on error it is removed."""
    dst = Path(target)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.tmp-", dir=dst.parent))
    try:
        yield tmp
        old = None
        if dst.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent))
            old.rmdir()
            dst.rename(old)
        try:
            tmp.rename(dst)
        except BaseException:
            if old is not None:
                old.rename(dst)  # put the previous model back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        # Make the rename durable on POSIX filesystems.
        fd = os.open(dst.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
