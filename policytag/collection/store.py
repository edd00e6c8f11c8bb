"""The results folder of a collection job: shards, resume, stale rows, errors, manifest, reading back.

Layout (the contract between the job, both engines and ``policytag report``)::

    RESULTS_DIR/
      manifest.json                 model, version, thresholds, taxonomy, kit version, engine, times, counts
      sentences/part-<name>.parquet one row per sentence (schema: policytag.collection.schema)
      documents/part-<name>.parquet one row per document, for the documents of the sentences shard of that name
      errors.jsonl                  one object per file that failed: path, sha256 (if read), reason, time

Why shards and why this order: a job may be killed at any moment. Every shard is written whole under a
hidden temporary name in its folder, synced, then renamed (:func:`policytag.core.jsonl.atomic_write_bytes`),
so a reader never sees half a file, and the documents shard of a pair is written after its sentences
shard, so a document counts as done (:func:`done`) only once both exist. :func:`clean` removes what a
kill leaves behind (temporaries, a shard without its pair); :func:`remove_stale` removes the rows of a
file that has changed since it was tagged, so that the tables never hold two versions of one path.
Readers open a folder as a Parquet dataset (``pyarrow.dataset.dataset("RESULTS_DIR/documents")``,
DuckDB ``read_parquet('RESULTS_DIR/documents/*.parquet')``); both skip the hidden temporaries.

Example:
    >>> import tempfile, pathlib
    >>> results = pathlib.Path(tempfile.mkdtemp())
    >>> prepare(results)
    >>> done(results)
    {}
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from policytag.collection.engine import FileFailure
from policytag.collection.schema import canonical, documents_schema, sentences_schema
from policytag.core.jsonl import atomic_write_bytes, atomic_write_text, read_json_object, write_jsonl
from policytag.core.taxonomy import Label, Taxonomy

__all__ = ["DOCUMENTS", "ERRORS", "MANIFEST", "SENTENCES"]
__all__ += ["clean", "counts", "done", "locked", "prepare", "read_manifest", "read_tables", "remove_stale"]
__all__ += ["shard_name", "shard_names", "write_errors", "write_manifest", "write_shard"]

SENTENCES = "sentences"
DOCUMENTS = "documents"
MANIFEST = "manifest.json"
ERRORS = "errors.jsonl"
_LOCK = ".lock"


def shard_name(run_id: str, index: int) -> str:
    """The file name of shard ``index`` of run ``run_id`` (the same name in ``sentences/`` and ``documents/``)."""
    return f"part-{run_id}-{index:06d}.parquet"


def prepare(results: Path) -> None:
    """Create the results folder and its two table folders (nothing happens if they exist)."""
    for sub in (SENTENCES, DOCUMENTS):
        (results / sub).mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def locked(results: Path) -> Iterator[None]:
    """Hold the results folder for one job: a second job on the same folder fails at once.

    The lock is an OS file lock (``flock``), so a killed job never leaves it held.

    Raises:
        ValueError: another job holds the folder.
    """
    prepare(results)
    with (results / _LOCK).open("a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as for any other tool
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{results}: another `policytag tag` is writing into this results folder") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue())


def write_shard(results: Path, name: str, sentences: pa.Table, documents: pa.Table) -> None:
    """Write one pair of shards atomically: the sentences shard first, the documents shard last."""
    if not name.startswith("part-") or not name.endswith(".parquet") or "/" in name:
        raise ValueError(f"shard name must be part-<...>.parquet, got {name!r}")
    atomic_write_bytes(results / SENTENCES / name, _table_bytes(sentences))
    atomic_write_bytes(results / DOCUMENTS / name, _table_bytes(documents))


def _shards(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("part-*.parquet")} if folder.is_dir() else set()


def shard_names(results: Path) -> list[str]:
    """The names of the complete shard pairs (a sentences and a documents shard), sorted."""
    return sorted(_shards(results / SENTENCES) & _shards(results / DOCUMENTS))


def clean(results: Path) -> int:
    """Remove what a killed job leaves: hidden temporaries and shards without their pair; return how many.

    Run only while holding :func:`locked`, before an engine starts: a running job's temporaries look the same.
    """
    removed = 0
    for folder in (results, results / SENTENCES, results / DOCUMENTS):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    paired = set(shard_names(results))
    for sub in (DOCUMENTS, SENTENCES):  # documents first: a document stops counting as done before its sentences go
        for name in _shards(results / sub) - paired:
            (results / sub / name).unlink(missing_ok=True)
            removed += 1
    return removed


def done(results: Path) -> dict[str, str]:
    """``sha256 → source_path`` of every document already in the results (complete shard pairs only)."""
    found: dict[str, str] = {}
    for name in shard_names(results):
        table = pq.read_table(results / DOCUMENTS / name, columns=["sha256", "source_path"])
        found.update(zip(table.column("sha256").to_pylist(), table.column("source_path").to_pylist(), strict=True))
    return found


def _rewrite(results: Path, name: str, documents: pa.Table, keep: pa.Array) -> None:
    """Keep only the rows of documents ``keep`` (doc ids) in pair ``name``: documents shard first."""
    docs = documents.filter(pc.is_in(documents.column("doc_id"), value_set=keep))
    if docs.num_rows == 0:
        (results / DOCUMENTS / name).unlink()
        (results / SENTENCES / name).unlink()
        return
    atomic_write_bytes(results / DOCUMENTS / name, _table_bytes(docs))
    sentences = pq.read_table(results / SENTENCES / name)
    atomic_write_bytes(
        results / SENTENCES / name,
        _table_bytes(sentences.filter(pc.is_in(sentences.column("doc_id"), value_set=keep))),
    )


def remove_stale(results: Path, current: Mapping[str, str]) -> int:
    """Remove the rows of files changed since they were tagged; return how many documents were removed.

    ``current`` maps the source paths of this job's inputs to their sha256 now. A document row is stale
    when its path is one of them with another sha256 (and that older content is not some other input's
    content now), or when an earlier shard already holds its sha256. Sentence rows go with their document,
    and sentence rows without a document row (a kill in the middle of an earlier clean-up) go too.
    """
    current_shas = set(current.values())
    seen: set[str] = set()
    removed = 0
    for name in shard_names(results):
        documents = pq.read_table(results / DOCUMENTS / name)
        rows = zip(
            documents.column("doc_id").to_pylist(),
            documents.column("sha256").to_pylist(),
            documents.column("source_path").to_pylist(),
            strict=True,
        )
        keep: list[str] = []
        for doc_id, sha, path in rows:
            changed = path in current and current[path] != sha and sha not in current_shas
            if changed or sha in seen:
                removed += 1
            else:
                seen.add(sha)
                keep.append(doc_id)
        sentence_ids = pc.unique(pq.read_table(results / SENTENCES / name, columns=["doc_id"]).column("doc_id"))
        keep_array = pa.array(keep, type=pa.string())
        if len(keep) < documents.num_rows or not pc.all(pc.is_in(sentence_ids, value_set=keep_array)).as_py():
            _rewrite(results, name, documents, keep_array)
    return removed


def counts(results: Path) -> tuple[int, int]:
    """``(documents, sentences)`` rows in the results, from the Parquet footers (no data read)."""
    n_docs = n_sents = 0
    for name in shard_names(results):
        n_docs += pq.ParquetFile(results / DOCUMENTS / name).metadata.num_rows
        n_sents += pq.ParquetFile(results / SENTENCES / name).metadata.num_rows
    return n_docs, n_sents


def read_manifest(results: Path) -> dict[str, Any] | None:
    """The results folder's manifest, or ``None`` when there is none yet."""
    try:
        return read_json_object(results / MANIFEST, missing=str(results / MANIFEST))
    except FileNotFoundError:
        return None


def write_manifest(results: Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest.json`` atomically (readable JSON, Chinese kept)."""
    atomic_write_text(results / MANIFEST, json.dumps(dict(manifest), ensure_ascii=False, indent=2) + "\n")


def write_errors(results: Path, failures: Sequence[FileFailure], *, attempted: set[str], time: str) -> int:
    """Update ``errors.jsonl``: this job's failures replace earlier rows of the paths it attempted.

    A file that failed before and was not among this job's inputs keeps its row; one that this job read
    without failing loses it. Returns the number of rows written.
    """
    path = results / ERRORS
    kept: list[dict[str, Any]] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                row = json.loads(line)
                if isinstance(row, dict) and row.get("path") not in attempted:
                    kept.append(row)
    new = [{"path": f.source_path, "sha256": f.sha256, "reason": f.reason, "time": time} for f in failures]
    rows = sorted(kept + new, key=lambda r: str(r.get("path")))
    write_jsonl(path, rows)
    return len(rows)


def _read(results: Path, sub: str, schema: pa.Schema) -> pa.Table:
    files = [str(results / sub / name) for name in shard_names(results)]
    if not files:
        return schema.empty_table()
    return ds.dataset(files, format="parquet", schema=schema).to_table()


def _taxonomy(manifest: Mapping[str, Any], source: Path) -> Taxonomy:
    """The results' taxonomy: the manifest's definition, else its ids (all the table schemas need)."""
    if isinstance(manifest.get("taxonomy_definition"), dict):
        return Taxonomy.from_dict(manifest["taxonomy_definition"], source=str(source))
    ids = manifest.get("taxonomy")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"{source}: no taxonomy (a list of label ids)")
    return Taxonomy(labels=tuple(Label(id=i, zh=i, en=i, description=i) for i in ids), source=str(source))


def read_tables(results: str | Path) -> tuple[pa.Table, pa.Table]:
    """``(sentences, documents)`` of a results folder, whole and in canonical order (:func:`schema.canonical`).

    Raises:
        FileNotFoundError: ``results`` has no ``manifest.json`` (not a results folder).
    """
    root = Path(results)
    manifest = read_manifest(root)
    if manifest is None:
        raise FileNotFoundError(f"{root}: not a results folder of `policytag tag` (no {MANIFEST})")
    taxonomy = _taxonomy(manifest, root / MANIFEST)
    documents = _read(root, DOCUMENTS, documents_schema(taxonomy))
    sentences = _read(root, SENTENCES, sentences_schema(taxonomy))
    sentences = sentences.filter(
        pc.is_in(sentences.column("doc_id"), value_set=documents.column("doc_id").combine_chunks())
    )
    return canonical(sentences), canonical(documents)
