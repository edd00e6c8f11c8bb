"""The local engine: batches across documents, shards every N documents, failures and dead workers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow.parquet as pq
import pytest

from policytag.collection import local_engine, store
from policytag.collection.engine import EngineOptions, InputFile
from policytag.collection.prepare import PreparedDocument, ReadFailure, prepare_document, prepare_many
from policytag.training.predictor import Predictor, load_predictor
from policytag.training.train import TrainResult
from tests.support.documents import write_binary, write_txt


class CountingPredictor:
    """The real predictor, counting how many sentences each ``predict_proba`` call gets (the job's one call)."""

    def __init__(self, inner: Predictor) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        self.calls.append(len(texts))
        return self.inner.predict_proba(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def predictor(tfidf_model: TrainResult) -> Predictor:
    return load_predictor(tfidf_model.folder)


def _files(folder: Path, n: int) -> list[InputFile]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [write_txt(folder / f"r{i:02d}.txt", seed=i).path for i in range(n)]
    return [InputFile(path=p, source_path=p.name) for p in paths]


def _options(tmp_path: Path, model: Path, **kw: Any) -> EngineOptions:
    return EngineOptions(model=model, results=tmp_path / "out", run_id="t", progress=False, **kw)


def test_sentences_of_many_documents_go_to_the_model_together(tmp_path: Path, predictor: Predictor) -> None:
    files = _files(tmp_path / "in", 6)
    counting = CountingPredictor(predictor)
    options = _options(tmp_path, Path("unused"), batch_sentences=10_000, shard_documents=4)
    result = local_engine.run(files, options, predictor=cast(Predictor, counting))
    assert (result.documents, result.failures) == (6, [])
    assert counting.calls == [result.sentences]  # one call for all six documents
    shards = store.shard_names(options.results)
    assert shards == [store.shard_name("t", 0), store.shard_name("t", 1)]
    assert [pq.read_metadata(options.results / "documents" / s).num_rows for s in shards] == [4, 2]
    rows = sum(pq.read_metadata(options.results / "sentences" / s).num_rows for s in shards)
    assert rows == result.sentences


def test_a_batch_is_about_batch_sentences(tmp_path: Path, predictor: Predictor) -> None:
    files = _files(tmp_path / "in", 5)
    counting = CountingPredictor(predictor)
    result = local_engine.run(
        files, _options(tmp_path, Path("unused"), batch_sentences=1), predictor=cast(Predictor, counting)
    )
    assert len(counting.calls) == 5 and sum(counting.calls) == result.sentences


def test_a_bad_file_is_a_failure_and_the_rest_is_tagged(tmp_path: Path, tfidf_model: TrainResult) -> None:
    files = _files(tmp_path / "in", 2)
    blob = write_binary(tmp_path / "in" / "blob.txt").path
    files.insert(1, InputFile(path=blob, source_path="blob.txt"))
    result = local_engine.run(files, _options(tmp_path, tfidf_model.folder))  # loads the model itself
    assert result.documents == 2
    assert [(f.source_path, "binary" in f.reason) for f in result.failures] == [("blob.txt", True)]


def _die_on_crash(path: Path, *, normalize: bool) -> PreparedDocument:
    """A worker function that kills its process for files named ``crash*`` (as an out-of-memory kill would)."""
    if path.name.startswith("crash"):
        os._exit(9)
    return prepare_document(path, normalize=normalize)


def test_a_dead_worker_fails_only_the_file_that_killed_it(
    tmp_path: Path, predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(tmp_path / "in", 8)
    crash = write_txt(tmp_path / "in" / "crash.txt", seed=9).path
    files = [*files[:3], InputFile(path=crash, source_path="crash.txt"), *files[3:]]
    monkeypatch.setattr(local_engine, "prepare_document", _die_on_crash)
    result = local_engine.run(files, _options(tmp_path, Path("unused"), workers=1), predictor=predictor)
    # the files in flight with it are read again, one pool each: only the culprit fails
    assert [(f.source_path, "died" in f.reason) for f in result.failures] == [("crash.txt", True)]
    assert result.documents == 8


def _raise_key_error(path: Path, *, normalize: bool) -> PreparedDocument:
    raise KeyError("xref")  # a reader's bug on an odd file


def test_an_unexpected_reader_error_is_that_files_failure(tmp_path: Path) -> None:
    good = write_txt(tmp_path / "good.txt", seed=1).path
    out = prepare_many([good, tmp_path / "odd.pdf"], reader=lambda p, **kw: (prepare_document if p == good
                       else _raise_key_error)(p, **kw))  # fmt: skip
    assert isinstance(out[0], PreparedDocument) and out[1] == ReadFailure("KeyError: 'xref'")
    future: Future[list[PreparedDocument | ReadFailure]] = Future()
    future.set_result(out)
    task = [InputFile(path=good, source_path="good.txt"), InputFile(path=tmp_path / "odd.pdf", source_path="odd.pdf")]
    outcomes = local_engine._outcomes(future, task)
    assert outcomes[1] == local_engine.FileFailure(source_path="odd.pdf", reason="KeyError: 'xref'")
    assert isinstance(outcomes[0], PreparedDocument) and outcomes[0].source_path == "good.txt"


def _always_die(path: Path, *, normalize: bool) -> PreparedDocument:
    os._exit(9)


def test_workers_that_cannot_start_stop_the_job_with_the_reason(
    tmp_path: Path, predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_engine, "prepare_document", _always_die)
    with pytest.raises(RuntimeError, match="__name__ == '__main__'"):
        local_engine.run(_files(tmp_path / "in", 10), _options(tmp_path, Path("unused")), predictor=predictor)


def test_a_shard_that_cannot_be_written_stops_the_job_and_the_shards_before_it_stay(
    tmp_path: Path, predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards are written on a thread while the model runs: a failed write must still surface, not vanish."""
    real = store.write_shard
    written: list[str] = []

    def failing_second(results: Path, name: str, *tables: Any) -> None:
        if written:
            raise OSError(28, "No space left on device")
        real(results, name, *tables)
        written.append(name)

    monkeypatch.setattr(store, "write_shard", failing_second)
    options = _options(tmp_path, Path("unused"), batch_sentences=1, shard_documents=2)
    with pytest.raises(OSError, match="No space left"):
        local_engine.run(_files(tmp_path / "in", 6), options, predictor=predictor)
    assert store.shard_names(options.results) == written  # the first shard whole, nothing half-written
    assert len(pq.read_table(options.results / store.DOCUMENTS / written[0])) == 2
