"""The local engine of the collection job: reading on worker processes, the model in this one.

Why this shape: reading a PDF or extracting a web page's main text is slow, single-threaded Python,
while the model wants large batches. So worker processes (``ProcessPoolExecutor``, spawn context: no
fork of a process that holds a model or threads) run :func:`policytag.collection.prepare.prepare_document`,
a bounded number of files in flight so memory stays flat, and the main process gathers the sentences
of many documents into batches of about ``batch_sentences`` and tags each batch in one pass
(:func:`policytag.collection.schema.tag_documents`: ``predict_proba``, which sorts by length and packs
by a token budget, the server's fast path). The workers keep reading while the model runs. Tables are built only
through :mod:`policytag.collection.schema`, column by column, and a shard pair is written
(:func:`policytag.collection.store.write_shard`) every ``shard_documents`` documents, on a writer
thread while the model tags the next batch (Parquet encoding and ``fsync`` release the interpreter
lock; one shard is written at a time, in order), so a killed job loses at most two shards' work.

A file that cannot be read becomes a :class:`~policytag.collection.engine.FileFailure` (the reader's
``DocumentError`` message, or the exception's type and message); it never stops the job. A worker
that dies (out of memory, a crash in a reader) breaks its pool: the files then in flight are read again,
each in a pool of its own, so that only the file that kills a reader fails, and a new pool takes the rest.
Reading never happens in this process: a file that crashes a reader must not take the job with it.

Example:
    >>> from policytag.collection.engine import EngineOptions, InputFile
    >>> from pathlib import Path
    >>> options = EngineOptions(model=Path("models/demo"), results=Path("out"), run_id="r1")
    >>> run([InputFile(Path("seeds/001.txt"), "seeds/001.txt")], options).documents  # doctest: +SKIP
    1
    87
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from policytag.collection import store
from policytag.collection.engine import EngineOptions, EngineResult, FileFailure, InputFile
from policytag.collection.prepare import PreparedDocument, ReadFailure, prepare_document, prepare_many
from policytag.collection.schema import documents_table, sentences_table, tag_documents
from policytag.training.predictor import Predictor, load_predictor

__all__ = ["run"]

# Files in flight per worker: enough that workers keep reading while the model runs a batch (a batch of
# 2,048 sentences is a few dozen reports); files go to a worker a few at a time (fewer, larger answers).
_IN_FLIGHT_PER_WORKER = 64
_FILES_PER_TASK = 8
_BROKEN = "the worker process reading it died (out of memory, or a crash in a reader)"

Task = list[InputFile]


def _outcomes(future: Future[list[PreparedDocument | ReadFailure]], task: Task) -> list[PreparedDocument | FileFailure]:
    """The task's documents (the tables record each path as the user named it) and failures, in file order."""
    try:
        results = future.result()
    except BrokenProcessPool:
        raise
    except Exception as e:  # the task itself failed (e.g. its answer could not be sent back): its files fail
        return [FileFailure(source_path=f.source_path, reason=f"{type(e).__name__}: {e}") for f in task]
    return [
        FileFailure(source_path=f.source_path, reason=r.reason)
        if isinstance(r, ReadFailure)
        else dataclasses.replace(r, source_path=f.source_path)
        for f, r in zip(task, results, strict=True)
    ]


class _Tagger:
    """The main process's side: batches sentences across documents, predicts, writes shards."""

    def __init__(self, predictor: Predictor, options: EngineOptions, bar: tqdm[Any]) -> None:
        self.predictor = predictor
        self.options = options
        self.bar = bar
        self.result = EngineResult()
        self.started = time.perf_counter()
        self.pending: list[PreparedDocument] = []
        self.pending_sentences = 0
        # the shard being filled: one slice of the sentences table and one documents row per document
        self.sentence_parts: list[pa.Table] = []
        self.document_parts: list[pa.Table] = []
        self.shards = 0
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policytag-shards")
        self.writing: Future[None] | None = None  # the shard on the writer thread: at most one

    def fail(self, failure: FileFailure) -> None:
        self.result.failures.append(failure)
        self.bar.update(1)

    def take(self, outcome: PreparedDocument | FileFailure) -> None:
        if isinstance(outcome, FileFailure):
            self.fail(outcome)
        else:
            self.add(outcome)

    def add(self, doc: PreparedDocument) -> None:
        self.pending.append(doc)
        self.pending_sentences += len(doc.model_texts)
        if self.pending_sentences >= self.options.batch_sentences:
            self.predict()

    def predict(self) -> None:
        """Tag every pending document in one pass of the model; write the shards that are full."""
        if not self.pending:
            return
        taxonomy = self.predictor.taxonomy
        # one pass over what was gathered (about batch_sentences: whole documents, so a little more)
        tagged = tag_documents(self.predictor, self.pending, batch_sentences=max(1, self.pending_sentences))
        sentences = sentences_table(tagged, model_version=self.predictor.version, taxonomy=taxonomy)
        documents = documents_table(tagged, taxonomy)
        at = 0
        for i, doc in enumerate(self.pending):
            n = len(doc.sentences)
            self.sentence_parts.append(sentences.slice(at, n))
            self.document_parts.append(documents.slice(i, 1))
            at += n
            self.result.documents += 1
            self.result.sentences += n
            if len(self.document_parts) >= self.options.shard_documents:
                self.write()
        self.bar.update(len(self.pending))
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.result.sentences / elapsed
        self.bar.set_postfix_str(f"{self.result.sentences:,} sentences, {rate:,.0f} sentences/s")
        self.pending, self.pending_sentences = [], 0

    def write(self) -> None:
        """Hand the filled shard to the writer thread, once the one before it is written (errors surface here)."""
        if not self.document_parts:
            return
        self.flush()
        self.writing = self.writer.submit(
            _write_shard,
            self.options.results,
            store.shard_name(self.options.run_id, self.shards),
            self.sentence_parts,
            self.document_parts,
        )
        self.shards += 1
        self.sentence_parts, self.document_parts = [], []

    def flush(self) -> None:
        """Wait until the shard on the writer thread is on disk; raise what writing it raised."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            writing.result()

    def close(self) -> None:
        """Stop the writer thread once the shard on it is written (on a failure too: it is a finished shard)."""
        self.writer.shutdown(wait=True)


def _write_shard(results: Path, name: str, sentence_parts: list[pa.Table], document_parts: list[pa.Table]) -> None:
    store.write_shard(
        results,
        name,
        pa.concat_tables(sentence_parts).combine_chunks(),
        pa.concat_tables(document_parts).combine_chunks(),
    )


def _submit(pool: ProcessPoolExecutor, todo: deque[InputFile], in_flight: dict[Future[Any], Task], *,
            limit: int, normalize: bool) -> bool:  # fmt: skip
    """Keep up to ``limit`` files in flight; False once the pool is broken (the files not taken stay in ``todo``)."""
    while todo and sum(map(len, in_flight.values())) < limit:
        task = [todo.popleft() for _ in range(min(_FILES_PER_TASK, len(todo)))]
        try:
            # prepare_document is passed (not named in the worker), so that a test may substitute it
            future = pool.submit(prepare_many, [f.path for f in task], normalize=normalize, reader=prepare_document)
        except BrokenProcessPool:
            todo.extendleft(reversed(task))
            return False
        in_flight[future] = task
    return True


def start_readers(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` reading processes, started now: they spawn and import the readers in the
    background while the caller loads the model and hashes the files (:func:`run` takes it over)."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(prepare_many, [])
    return pool


def _run_pool(
    todo: deque[InputFile], tagger: _Tagger, *, limit: int, pool: ProcessPoolExecutor | None = None
) -> tuple[int, list[InputFile]]:
    """Feed ``todo`` through one pool of workers (``pool``, or a new one); shut it down when done.

    Returns how many files the workers read, and the files lost with the pool: when a worker dies the
    pool is broken, every file then in flight is returned unread (one of them killed the worker, which
    one is unknown), and the files not yet submitted stay in ``todo``.
    """
    read, lost = 0, list[InputFile]()
    with pool or start_readers(tagger.options.workers) as pool:
        in_flight: dict[Future[Any], Task] = {}
        healthy = True
        while True:
            healthy = healthy and _submit(pool, todo, in_flight, limit=limit, normalize=tagger.options.normalize)
            if not in_flight:
                return read, lost
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                task = in_flight.pop(future)
                try:
                    outcomes = _outcomes(future, task)
                except BrokenProcessPool:
                    healthy = False
                    lost += task
                    continue
                read += len(outcomes)
                for outcome in outcomes:
                    tagger.take(outcome)


def _read_all(files: Sequence[InputFile], tagger: _Tagger, readers: ProcessPoolExecutor | None) -> None:
    """Every file through worker pools; the files a dying worker took with it are read again, one pool each.

    A file that breaks a pool of its own is the one that kills readers: it fails, and only it. If no
    worker has read a single file after two pools, the workers cannot start at all: the job stops.
    """
    todo, suspects = deque(files), deque[InputFile]()
    limit = _IN_FLIGHT_PER_WORKER * tagger.options.workers
    pools = ever_read = 0
    while todo or suspects:
        alone = bool(suspects)
        batch = deque([suspects.popleft()]) if alone else todo
        read, lost = _run_pool(batch, tagger, limit=1 if alone else limit, pool=readers)
        readers = None  # taken over (and shut down) by the first pool
        pools, ever_read = pools + 1, ever_read + read
        for file in lost:
            if alone:
                tagger.fail(FileFailure(source_path=file.source_path, reason=_BROKEN))
            else:
                suspects.append(file)
        if not ever_read and pools >= 2 and (todo or suspects):
            raise RuntimeError(
                f"the reading worker processes die before reading anything; {len(todo) + len(suspects)} files not "
                "read. A script that calls the collection job must call it under `if __name__ == '__main__':` and "
                "be a file (not standard input), as Python's spawn start method requires."
            )


def run(
    files: Sequence[InputFile],
    options: EngineOptions,
    *,
    predictor: Predictor | None = None,
    readers: ProcessPoolExecutor | None = None,
) -> EngineResult:
    """Tag ``files`` into ``options.results``.

    ``predictor`` saves loading the model again when the caller has it; ``readers`` (:func:`start_readers`)
    is a pool the caller started early, which ``run`` takes over and shuts down.
    """
    model = predictor if predictor is not None else load_predictor(options.model)
    store.prepare(options.results)
    with tqdm(total=len(files), unit="doc", desc="tagging", disable=not options.progress, smoothing=0.1) as bar:
        tagger = _Tagger(model, options, bar)
        try:
            _read_all(files, tagger, readers)
            tagger.predict()
            tagger.write()
            tagger.flush()
        finally:
            tagger.close()
    return tagger.result
