"""The unlabelled corpus: every harvested page kept after exclusions and deduplication.

It lives in ``seeds/unlabelled/pages.parquet``, one row per page with its provenance (the columns of
:data:`COLUMNS`), and loads as a ``datasets.Dataset`` for domain pretraining and self-training.
``seed_file`` names the page's file in ``seeds/`` when it was also selected for labelling.

Example:
    >>> import tempfile, pathlib
    >>> row = dict.fromkeys(COLUMNS, "") | {"year": 2022, "chars": 2, "text": "好。", "duplicate_urls": []}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "pages.parquet"
    ...     write_unlabelled(path, [row])
    ...     list(load_unlabelled(path)["text"])
    ['好。']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytag.core.paths import data_path

if TYPE_CHECKING:
    import datasets

__all__ = ["COLUMNS", "load_unlabelled", "read_unlabelled_rows", "write_unlabelled"]

COLUMNS = (
    "url",
    "title",
    "issuer",
    "locality",
    "province",
    "level",
    "year",
    "doc_type",
    "retrieved",
    "query",
    "chars",
    "sha256",
    "seed_file",
    "duplicate_urls",
    "text",
)


def write_unlabelled(path: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    """Atomically write ``rows`` (dicts with every column of :data:`COLUMNS`) as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [c for row in rows for c in COLUMNS if c not in row]
    if missing:
        raise ValueError(f"unlabelled rows lack column {missing[0]!r}")
    table = pa.table(
        {
            c: pa.array(
                [row[c] for row in rows],
                type=pa.int32()
                if c in ("year", "chars")
                else pa.list_(pa.string())
                if c == "duplicate_urls"
                else pa.string(),
            )
            for c in COLUMNS
        }
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_unlabelled(path: str | Path | None = None) -> datasets.Dataset:
    """The unlabelled corpus as a ``datasets.Dataset``."""
    import datasets

    p = Path(path) if path is not None else data_path("unlabelled")
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no unlabelled corpus (build it with `policytag seeds ingest`)")
    return datasets.Dataset.from_parquet(str(p))


def read_unlabelled_rows(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The corpus's rows as plain dicts (for checks and summaries); ``[]`` when there is no corpus yet."""
    import pyarrow.parquet as pq

    p = Path(path) if path is not None else data_path("unlabelled")
    return pq.read_table(p).to_pylist() if p.is_file() else []
