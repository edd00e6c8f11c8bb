"""``policytag tag --engine ray``: the collection job on Ray Data, locally or on a cluster.

The same steps as the local engine (:mod:`policytag.collection.local_engine`), run by Ray Data instead
of a process pool, so that a job can use every core and GPU of a cluster without a scheduler of ours:

1. ``ray.data.from_items``: one item per *shard* (``shard_documents`` input files), because a shard is
   the unit the results folder pairs (:mod:`policytag.collection.store`: ``sentences/part-<name>`` holds
   exactly the sentences of the documents in ``documents/part-<name>``);
2. ``map_batches`` on CPU workers: :func:`~policytag.collection.prepare.prepare_document` for every file
   of a shard; a file that fails becomes a failure record with its reason, never an exception that
   stops the job;
3. ``map_batches`` with a class (a pool of ``workers`` model actors, one GPU each when the cluster has
   GPUs): each actor loads the predictor once and tags a shard's sentences in large batches with
   :func:`~policytag.collection.schema.tag_documents`, the tables built by
   :func:`~policytag.collection.schema.sentences_table` and ``documents_table``, so they equal the local engine's;
4. ``write_parquet`` of both tables, partitioned by shard, into a hidden folder of the results folder;
   each shard's files are then renamed into ``sentences/`` and ``documents/`` (sentences first,
   documents last), so a document counts as done only once both of its shards exist.

Ray is imported inside :func:`run`: the kit works without the ``ray`` extra. Locally (the default) this
engine starts Ray with ``2 × workers`` CPUs (``workers`` for reading and splitting, ``workers`` for the
model actors) and stops it at the end; with ``ray_address`` it joins a running cluster, whose nodes must
have the kit installed and see the model folder, the input files and the results folder at the same
paths (a shared file system).

Example:
    >>> from policytag.collection.engine import EngineOptions
    >>> options = EngineOptions(model=Path("models/demo"), results=Path("results"), run_id="r1", workers=2)
    >>> run([], options)  # doctest: +SKIP
    EngineResult(documents=0, sentences=0, failures=[])
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from policytag.collection import store
from policytag.collection.engine import EngineOptions, EngineResult, FileFailure, InputFile
from policytag.collection.prepare import PreparedDocument, prepare_document
from policytag.collection.schema import (
    documents_schema,
    documents_table,
    sentences_schema,
    sentences_table,
    tag_documents,
)
from policytag.core.jsonl import atomic_write_bytes
from policytag.core.splitter import Sentence
from policytag.core.taxonomy import Taxonomy
from policytag.labels.documents import DocumentError
from policytag.training.model_folder import read_manifest, read_taxonomy
from policytag.training.predictor import Predictor, load_predictor

__all__ = ["RAY_MISSING", "run"]

RAY_MISSING = "--engine ray needs the ray extra: pip install 'policytag[ray]'"
_SHARD = "shard"
_TMP_PREFIX = ".ray-"
# Reading and splitting is light (I/O and a Python loop): half a CPU per reader task. A request unlike the
# model actors' also keeps Ray Data from fusing the two steps into the actors (it fuses only operators
# whose resources match), so documents are read on their own workers while the model runs.
_READER_CPUS = 0.5

Row = dict[str, Any]


def check_available() -> None:
    """Raise the ``ValueError`` of a missing ``ray`` extra now, before a job writes anything."""
    _import_ray()


def _import_ray() -> ModuleType:
    """Ray and Ray Data, or a ``ValueError`` (the CLI's one-line user error: ``--engine ray`` cannot run here)."""
    try:
        import ray
        import ray.data  # the extra's Data library, not only Ray core
    except ImportError as e:
        raise ValueError(RAY_MISSING) from e
    return ray


# -- step 2: reading and splitting (Ray tasks on CPU workers) -------------------------------------------


def _encode(doc: PreparedDocument) -> dict[str, Any]:
    return asdict(doc)  # sentences become {start, end, text}; tuples become lists


def _decode(data: dict[str, Any]) -> PreparedDocument:
    fields = dict(data)
    fields["sentences"] = tuple(Sentence(**s) for s in fields["sentences"])
    fields["model_texts"] = tuple(fields["model_texts"])
    fields["warnings"] = tuple(fields["warnings"])
    return PreparedDocument(**fields)


def _prepare_one(path: str, source_path: str, normalize: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(prepared document, None)`` or ``(None, failure)``: a bad file never raises out of a worker.

    The reasons are the local engine's (the reader's ``DocumentError`` message, or the exception's type and
    message); the job adds the file's sha256.
    """
    try:
        doc = prepare_document(path, normalize=normalize)
    except DocumentError as e:
        reason = str(e)
    except Exception as e:  # a reader's bug on one odd file must not stop the collection
        reason = f"{type(e).__name__}: {e}"
    else:
        return _encode(doc) | {"source_path": source_path}, None
    return None, asdict(FileFailure(source_path=source_path, reason=reason))


def prepare_shards(batch: pa.Table, *, normalize: bool) -> pa.Table:
    """Ray Data UDF: each row (a shard's files) → the shard's prepared documents and failures, as JSON.

    JSON (not pickle, not nested Arrow types inferred batch by batch) keeps the payload between the two
    stages explicit and the same whatever a shard holds.
    """
    shards, docs, failures = [], [], []
    for row in batch.to_pylist():
        results = [_prepare_one(p, s, normalize) for p, s in zip(row["paths"], row["sources"], strict=True)]
        shards.append(row[_SHARD])
        docs.append(json.dumps([d for d, _ in results if d is not None]))
        failures.append(json.dumps([f for _, f in results if f is not None]))
    return pa.table({_SHARD: pa.array(shards, pa.int64()), "docs": docs, "failures": failures})


# -- step 3: the model (a pool of Ray actors) -------------------------------------------------------------


def _struct(schema: pa.Schema) -> pa.DataType:
    return pa.struct(list(schema))


def tagged_schema(taxonomy: Taxonomy) -> pa.Schema:
    """What a model actor returns: per shard, its sentence rows, document rows and failures."""
    return pa.schema(
        [
            pa.field(_SHARD, pa.int64()),
            pa.field("sentences", pa.list_(_struct(sentences_schema(taxonomy)))),
            pa.field("documents", pa.list_(_struct(documents_schema(taxonomy)))),
            pa.field("failures", pa.string()),
            pa.field("n_documents", pa.int64()),
            pa.field("n_sentences", pa.int64()),
        ]
    )


class Tagger:
    """Ray Data callable class: one per model actor; loads the predictor once and tags whole shards."""

    def __init__(self, model: str, batch_sentences: int) -> None:
        self.predictor: Predictor = load_predictor(model)
        self.batch_sentences = batch_sentences
        self.schema = tagged_schema(self.predictor.taxonomy)

    def _rows(self, docs: Sequence[PreparedDocument]) -> tuple[list[Row], list[Row]]:
        """The documents' sentence and document rows, through the schema's one tagging and table path."""
        taxonomy = self.predictor.taxonomy
        tagged = tag_documents(self.predictor, docs, batch_sentences=self.batch_sentences)
        sentences = sentences_table(tagged, model_version=self.predictor.version, taxonomy=taxonomy)
        return sentences.to_pylist(), documents_table(tagged, taxonomy).to_pylist()

    def _tag_one_by_one(self, docs: Sequence[PreparedDocument], out: dict[str, list[Row]]) -> None:
        """After a shard's batch failed: every document on its own, so one bad document fails alone."""
        for doc in docs:
            try:
                sentences, documents = self._rows([doc])
            except Exception as e:  # this document's failure, with the reason
                reason = f"tagging failed: {type(e).__name__}: {e}"
                out["failures"].append(asdict(FileFailure(doc.source_path, reason, doc.sha256)))
            else:
                out["sentences"].extend(sentences)
                out["documents"].extend(documents)

    def tag_shard(self, docs: Sequence[PreparedDocument]) -> dict[str, list[Row]]:
        """A shard's rows: every sentence of every document through the predictor in large batches."""
        out: dict[str, list[Row]] = {"sentences": [], "documents": [], "failures": []}
        try:
            out["sentences"], out["documents"] = self._rows(docs)
        except Exception:  # find the document at fault, one by one
            self._tag_one_by_one(docs, out)
        return out

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = []
        for row in batch.to_pylist():
            out = self.tag_shard([_decode(d) for d in json.loads(row["docs"])])
            failures = json.loads(row["failures"]) + out.pop("failures")
            counts = {"n_documents": len(out["documents"]), "n_sentences": len(out["sentences"])}
            rows.append({_SHARD: row[_SHARD], **out, "failures": json.dumps(failures), **counts})
        return pa.Table.from_pylist(rows, schema=self.schema)


# -- step 4: writing --------------------------------------------------------------------------------------


def explode(batch: pa.Table, *, column: str, schema: pa.Schema) -> pa.Table:
    """Ray Data UDF: the list column ``column`` of each shard → one row per element, with its shard."""
    lists = batch.column(column).combine_chunks()
    flat = pa.Table.from_struct_array(lists.flatten()) if len(lists) else schema.empty_table()
    shard = batch.column(_SHARD).take(pc.list_parent_indices(lists)) if len(lists) else pa.array([], pa.int64())
    return flat.append_column(_SHARD, shard).cast(schema)


def _tables(taxonomy: Taxonomy) -> tuple[tuple[str, pa.Schema], ...]:
    """The two tables in the order they are written: sentences first, documents (which mark "done") last."""
    return (store.SENTENCES, sentences_schema(taxonomy)), (store.DOCUMENTS, documents_schema(taxonomy))


def _with_shard(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field(_SHARD, pa.int64(), nullable=False))


def _move(files: list[Path], dest: Path, schema: pa.Schema) -> None:
    """Put the shard's Ray-written file(s) at ``dest`` atomically: a rename, or one merged file if several."""
    if len(files) == 1:
        with files[0].open("rb") as fh:
            os.fsync(fh.fileno())
        files[0].replace(dest)
        return
    table = pa.concat_tables([pq.read_table(f, schema=schema) for f in files]) if files else schema.empty_table()
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(dest, bytes(sink.getvalue()))


def _publish(tmp: Path, options: EngineOptions, taxonomy: Taxonomy) -> None:
    """Move every shard into the results folder: its sentences file first, its documents file last."""
    shards = sorted(int(p.name.split("=", 1)[1]) for p in (tmp / store.DOCUMENTS).glob(f"{_SHARD}=*"))
    for k in shards:
        name = store.shard_name(options.run_id, k)
        for sub, schema in _tables(taxonomy):
            files = sorted((tmp / sub / f"{_SHARD}={k}").glob("*.parquet"))
            _move(files, options.results / sub / name, schema)
        # The folder's entries are durable once the documents shard (the one that marks "done") is.
        fd = os.open(options.results / store.DOCUMENTS, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- the pipeline -----------------------------------------------------------------------------------------


def _start(ray: ModuleType, options: EngineOptions) -> bool:
    """Start (or join) Ray; True when this call started it, so that :func:`run` stops only what it started."""
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False, "include_dashboard": False}
    if options.ray_address:
        ray.init(address=options.ray_address, **quiet)
    else:
        ray.init(num_cpus=2 * options.workers, **quiet)
    return True


@contextlib.contextmanager
def _quiet_console() -> Iterator[None]:
    """Ray Data's INFO lines (plans, timings) off the console for the run; its log file keeps them."""
    handlers = [
        h
        for h in logging.getLogger("ray.data").handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    levels = [h.level for h in handlers]
    for h in handlers:
        h.setLevel(max(h.level, logging.WARNING))
    try:
        yield
    finally:
        for h, level in zip(handlers, levels, strict=True):
            h.setLevel(level)


def _actor_resources(ray: ModuleType, workers: int) -> dict[str, Any]:
    """``workers`` model actors, each with one GPU when the cluster has GPUs (at most one per GPU), else one CPU."""
    gpus = int(ray.cluster_resources().get("GPU", 0))
    size = min(workers, gpus) if gpus else workers
    return {"num_cpus": 1, "num_gpus": 1 if gpus else 0, "compute": ray.data.ActorPoolStrategy(size=size)}


def _shard_items(todo: Sequence[InputFile], per_shard: int) -> list[dict[str, Any]]:
    return [
        {
            _SHARD: k,
            "paths": [str(f.path) for f in todo[i : i + per_shard]],
            "sources": [f.source_path for f in todo[i : i + per_shard]],
        }
        for k, i in enumerate(range(0, len(todo), per_shard))
    ]


def _tag(ray: ModuleType, todo: Sequence[InputFile], options: EngineOptions, taxonomy: Taxonomy) -> Any:
    """Steps 1–3, materialised: the tables are written twice (sentences, documents) from one tagging."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = options.progress
    items = _shard_items(todo, options.shard_documents)
    return (
        ray.data.from_items(items, override_num_blocks=len(items))
        .map_batches(
            prepare_shards,
            batch_size=1,
            batch_format="pyarrow",
            fn_kwargs={"normalize": options.normalize},
            num_cpus=_READER_CPUS,
        )
        .map_batches(
            Tagger,
            batch_size=1,
            batch_format="pyarrow",
            fn_constructor_kwargs={"model": str(options.model), "batch_sentences": options.batch_sentences},
            **_actor_resources(ray, options.workers),
        )
        .materialize()
    )


def _write(tagged: Any, tmp: Path, taxonomy: Taxonomy) -> None:
    for sub, schema in _tables(taxonomy):
        target = _with_shard(schema)
        tagged.map_batches(explode, batch_format="pyarrow", fn_kwargs={"column": sub, "schema": target}).write_parquet(
            str(tmp / sub), partition_cols=[_SHARD], schema=target, compression="zstd"
        )


def _summary(tagged: Any) -> EngineResult:
    result = EngineResult()
    for row in tagged.select_columns(["n_documents", "n_sentences", "failures"]).iter_rows():
        result.documents += row["n_documents"]
        result.sentences += row["n_sentences"]
        result.failures.extend(FileFailure(**f) for f in json.loads(row["failures"]))
    result.failures.sort(key=lambda f: f.source_path)
    return result


def run(todo: Sequence[InputFile], options: EngineOptions) -> EngineResult:
    """Tag ``todo`` on Ray Data and write the shards into ``options.results``; return what failed.

    Raises:
        ValueError: Ray Data is not installed (the message says how to install it).
    """
    read_manifest(options.model)  # a clear error before Ray starts: not a model folder, unknown kind
    taxonomy = read_taxonomy(options.model)
    if not todo:
        return EngineResult()
    ray = _import_ray()
    store.prepare(options.results)
    for old in options.results.glob(f"{_TMP_PREFIX}*"):  # left by a killed run (the job holds the folder's lock)
        shutil.rmtree(old, ignore_errors=True)
    tmp = options.results / f"{_TMP_PREFIX}{options.run_id}"
    started = _start(ray, options)
    try:
        with _quiet_console():
            tagged = _tag(ray, todo, options, taxonomy)
            _write(tagged, tmp, taxonomy)
            _publish(tmp, options, taxonomy)
            return _summary(tagged)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if started:
            ray.shutdown()
