"""The results folder: shard pairs, done, clean-up after a kill, stale rows, errors, lock, reading back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from policytag.collection import store
from policytag.collection.engine import FileFailure
from policytag.collection.prepare import PreparedDocument
from policytag.collection.schema import (
    documents_schema,
    documents_table,
    sentences_schema,
    sentences_table,
    tagged_from_predictions,
)
from policytag.core.taxonomy import Taxonomy
from policytag.training.predictor import Prediction
from tests.support.collection import doc_specs, fabricate

Doc = tuple[PreparedDocument, list[Prediction]]


@pytest.fixture
def docs(taxonomy: Taxonomy) -> list[Doc]:
    return [fabricate(spec, taxonomy, name=f"d{n}") for n, spec in enumerate(doc_specs(taxonomy)[:4])]


def _write(results: Path, name: str, docs: Sequence[Doc], taxonomy: Taxonomy) -> None:
    tagged = tagged_from_predictions([d for d, _ in docs], [x for _, p in docs for x in p], taxonomy)
    store.write_shard(
        results, name, sentences_table(tagged, model_version="v1", taxonomy=taxonomy), documents_table(tagged, taxonomy)
    )


@pytest.fixture
def results(tmp_path: Path, taxonomy: Taxonomy) -> Path:
    root = tmp_path / "results"
    store.prepare(root)
    store.write_manifest(root, {"taxonomy": list(taxonomy.ids), "taxonomy_definition": taxonomy.to_dict()})
    return root


def test_shards_round_trip_and_count_as_done(results: Path, docs: list[Doc], taxonomy: Taxonomy) -> None:
    _write(results, store.shard_name("r1", 0), docs[:2], taxonomy)
    _write(results, store.shard_name("r1", 1), docs[2:], taxonomy)
    assert store.done(results) == {d.sha256: d.source_path for d, _ in docs}
    sentences, documents = store.read_tables(results)
    assert documents.column("doc_id").to_pylist() == sorted(d.doc_id for d, _ in docs)
    assert sentences.num_rows == sum(len(d.sentences) for d, _ in docs) == store.counts(results)[1]
    assert not list(results.rglob("*.tmp"))


def test_a_shard_without_its_pair_is_not_done_and_is_cleaned(
    results: Path, docs: list[Doc], taxonomy: Taxonomy
) -> None:
    _write(results, "part-a.parquet", docs[:1], taxonomy)
    _write(results, "part-b.parquet", docs[1:2], taxonomy)
    (results / store.DOCUMENTS / "part-b.parquet").unlink()  # killed between the two writes of pair b
    (results / store.SENTENCES / ".part-c.parquet.x1.tmp").write_bytes(b"half a shard")  # killed mid-write
    assert set(store.done(results)) == {docs[0][0].sha256}
    assert store.read_tables(results)[0].num_rows == len(docs[0][0].sentences)
    assert store.clean(results) == 2
    assert {p.name for p in (results / store.SENTENCES).iterdir()} == {"part-a.parquet"}
    assert {p.name for p in (results / store.DOCUMENTS).iterdir()} == {"part-a.parquet"}


def test_remove_stale_drops_changed_paths_and_repeats(results: Path, docs: list[Doc], taxonomy: Taxonomy) -> None:
    _write(results, "part-1.parquet", docs[:2], taxonomy)
    _write(results, "part-2.parquet", docs[2:3], taxonomy)
    _write(results, "part-3.parquet", docs[:1], taxonomy)  # doc 0 again: one version only
    changed, kept = docs[1][0], docs[2][0]
    current = {changed.source_path: "f" * 64, kept.source_path: kept.sha256}
    assert store.remove_stale(results, current) == 2
    sentences, documents = store.read_tables(results)
    assert sorted(documents.column("doc_id").to_pylist()) == sorted([docs[0][0].doc_id, kept.doc_id])
    assert set(sentences.column("doc_id").to_pylist()) == set(documents.column("doc_id").to_pylist())
    assert not (results / store.DOCUMENTS / "part-3.parquet").exists()
    assert store.remove_stale(results, current) == 0


def test_content_that_moved_to_another_input_is_not_stale(results: Path, docs: list[Doc], taxonomy: Taxonomy) -> None:
    _write(results, "part-1.parquet", docs[:1], taxonomy)
    doc = docs[0][0]
    assert store.remove_stale(results, {doc.source_path: "f" * 64, "copy.txt": doc.sha256}) == 0


def test_remove_stale_heals_orphan_sentence_rows(results: Path, docs: list[Doc], taxonomy: Taxonomy) -> None:
    _write(results, "part-1.parquet", docs[:2], taxonomy)
    path = results / store.DOCUMENTS / "part-1.parquet"
    pq.write_table(pq.read_table(path).slice(0, 1), path)  # a kill after the documents shard was rewritten
    assert store.remove_stale(results, {}) == 0
    ids = set(pq.read_table(results / store.SENTENCES / "part-1.parquet").column("doc_id").to_pylist())
    assert ids == {docs[0][0].doc_id}


def test_errors_keep_rows_of_files_not_attempted(results: Path) -> None:
    store.write_errors(
        results,
        [FileFailure("a.pdf", "no text layer", "s" * 64), FileFailure("b.txt", "empty")],
        attempted={"a.pdf", "b.txt"},
        time="t1",
    )
    store.write_errors(results, [FileFailure("c.docx", "not a zip")], attempted={"b.txt", "c.docx"}, time="t2")
    rows = [json.loads(line) for line in (results / store.ERRORS).read_text(encoding="utf-8").splitlines()]
    assert rows == [
        {"path": "a.pdf", "sha256": "s" * 64, "reason": "no text layer", "time": "t1"},
        {"path": "c.docx", "sha256": None, "reason": "not a zip", "time": "t2"},
    ]


def test_one_job_at_a_time(results: Path) -> None:
    with store.locked(results), pytest.raises(ValueError, match="another"), store.locked(results):
        pass
    with store.locked(results):
        pass


def test_read_tables_of_an_empty_folder_has_the_schemas(results: Path, taxonomy: Taxonomy) -> None:
    sentences, documents = store.read_tables(results)
    assert sentences.schema == sentences_schema(taxonomy) and sentences.num_rows == 0
    assert documents.schema == documents_schema(taxonomy)


def test_read_tables_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a results folder"):
        store.read_tables(tmp_path)


def test_shard_names_are_checked(results: Path, taxonomy: Taxonomy) -> None:
    empty = sentences_schema(taxonomy).empty_table()
    with pytest.raises(ValueError, match="part-"):
        store.write_shard(results, "../x.parquet", empty, documents_schema(taxonomy).empty_table())
