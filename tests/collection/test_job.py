"""The collection job end to end (local engine, tiny TF-IDF model): tables, offsets, resume, errors, manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from policytag.collection import store
from policytag.collection.job import TagSummary, tag_collection
from policytag.labels.documents import read_document
from policytag.training.train import TrainResult
from tests.support.documents import SampleFile, bad, good, write_mixed_folder, write_txt

SENTENCE_COLUMNS = ["doc_id", "sentence_index", "start", "end", "text", "labels", "scores", "model_version"]
DOCUMENT_COLUMNS = ["doc_id", "source_path", "sha256", "format", "title", "characters", "sentences"]
DOCUMENT_COLUMNS += ["province", "locality", "year", "label_share", "warnings"]


def _tag(inputs: list[Any], model: TrainResult, out: Path, **kw: Any) -> TagSummary:
    return tag_collection(inputs, model=model.folder, out=out, **({"workers": 1, "progress": False} | kw))


@pytest.fixture(scope="module")
def mixed(
    tmp_path_factory: pytest.TempPathFactory, tfidf_model: TrainResult
) -> tuple[dict[str, SampleFile], TagSummary]:
    root = tmp_path_factory.mktemp("mixed")
    files = write_mixed_folder(root / "in", nested=True)
    return files, _tag([root / "in"], tfidf_model, root / "out")


def test_a_mixed_folder_gives_both_tables_with_exact_offsets(mixed: tuple[dict[str, SampleFile], TagSummary]) -> None:
    files, summary = mixed
    sentences, documents = store.read_tables(summary.results)
    assert sentences.column_names == SENTENCE_COLUMNS and documents.column_names == DOCUMENT_COLUMNS
    assert (summary.tagged, summary.total_documents, summary.total_sentences) == (6, 6, sentences.num_rows)
    docs = {Path(r["source_path"]).name: r for r in documents.to_pylist()}
    assert {name: r["format"] for name, r in docs.items()} == {name: f.format for name, f in good(files).items()}
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for row in sentences.to_pylist():
        by_doc.setdefault(row["doc_id"], []).append(row)
    for row in docs.values():
        text = read_document(row["source_path"]).text
        mine = by_doc[row["doc_id"]]
        assert row["characters"] == len(text) and row["sentences"] == len(mine)
        assert [s["sentence_index"] for s in mine] == list(range(len(mine)))
        assert all(text[s["start"] : s["end"]] == s["text"] for s in mine)
        for label, share in row["label_share"].items():
            assert share == pytest.approx(sum(label in s["labels"] for s in mine) / len(mine))


def test_bad_files_go_to_errors_and_do_not_stop_the_job(mixed: tuple[dict[str, SampleFile], TagSummary]) -> None:
    files, summary = mixed
    lines = (summary.results / "errors.jsonl").read_text(encoding="utf-8").splitlines()
    errors = {Path(row["path"]).name: row for row in map(json.loads, lines)}
    assert set(errors) == set(bad(files)) == {Path(f.source_path).name for f in summary.failures}
    for name, sample in bad(files).items():
        assert sample.error and sample.error in errors[name]["reason"]
        assert len(errors[name]["sha256"]) == 64 and errors[name]["time"]
    assert summary.exit_status == 0


def test_the_manifest_records_model_and_counts(
    mixed: tuple[dict[str, SampleFile], TagSummary], tfidf_model: TrainResult
) -> None:
    _, summary = mixed
    manifest = json.loads((summary.results / "manifest.json").read_text(encoding="utf-8"))
    model = json.loads((tfidf_model.folder / "policytag.json").read_text(encoding="utf-8"))
    assert manifest["model"]["version"] == model["version"] and manifest["model"]["kind"] == "tfidf"
    assert list(manifest["thresholds"]) == manifest["taxonomy"]
    assert manifest["status"] == "finished" and manifest["engine"] == "local" and manifest["kit_version"]
    assert manifest["counts"] == {"documents": 6, "sentences": summary.total_sentences, "errors": 3}
    assert manifest["run"]["tagged"] == 6 and manifest["run"]["failed"] == 3


def test_unchanged_rerun_tags_nothing_changed_file_is_tagged_again(tmp_path: Path, tfidf_model: TrainResult) -> None:
    (tmp_path / "in").mkdir()
    for i in range(3):
        write_txt(tmp_path / "in" / f"r{i}.txt", seed=i)
    out = tmp_path / "out"
    first = _tag([tmp_path / "in"], tfidf_model, out)
    before = store.read_tables(out)
    again = _tag([tmp_path / "in"], tfidf_model, out)
    assert (again.tagged, again.already_done, again.stale_removed) == (0, 3, 0)
    assert all(a.equals(b) for a, b in zip(store.read_tables(out), before, strict=True))
    old_id = next(r["doc_id"] for r in before[1].to_pylist() if r["source_path"].endswith("r1.txt"))
    write_txt(tmp_path / "in" / "r1.txt", seed=7)
    changed = _tag([tmp_path / "in"], tfidf_model, out)
    assert (changed.tagged, changed.already_done, changed.stale_removed) == (1, 2, 1)
    sentences, documents = store.read_tables(out)
    assert documents.num_rows == 3 == len(set(documents.column("source_path").to_pylist()))
    assert old_id not in set(sentences.column("doc_id").to_pylist()) | set(documents.column("doc_id").to_pylist())
    assert first.tagged == 3


def test_leftovers_of_a_kill_are_ignored_and_cleaned(tmp_path: Path, tfidf_model: TrainResult) -> None:
    (tmp_path / "in").mkdir()
    write_txt(tmp_path / "in" / "a.txt", seed=1)
    out = tmp_path / "out"
    _tag([tmp_path / "in"], tfidf_model, out)
    shard = store.shard_names(out)[0]
    (out / "sentences" / f".{shard}.k1ll.tmp").write_bytes(b"PAR1 half")  # killed while writing
    (out / "documents" / f".{shard}.k2ll.tmp").write_bytes(b"")
    shutil.copy(out / "sentences" / shard, out / "sentences" / "part-killed-000000.parquet")  # pair never finished
    write_txt(tmp_path / "in" / "b.txt", seed=2)
    summary = _tag([tmp_path / "in"], tfidf_model, out)
    assert (summary.tagged, summary.already_done) == (1, 1)
    assert not list(out.rglob("*.tmp")) and not (out / "sentences" / "part-killed-000000.parquet").exists()
    sentences, documents = store.read_tables(out)
    assert documents.num_rows == 2 and sentences.num_rows == summary.total_sentences
    keys = list(
        zip(sentences.column("doc_id").to_pylist(), sentences.column("sentence_index").to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys))


def test_unsupported_file_named_and_repeated_content(tmp_path: Path, tfidf_model: TrainResult) -> None:
    a = write_txt(tmp_path / "a.txt", seed=1).path
    shutil.copy(a, tmp_path / "copy.txt")
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04")
    summary = _tag([tmp_path / "a.txt", tmp_path / "copy.txt", tmp_path / "table.xlsx"], tfidf_model, tmp_path / "out")
    assert (summary.tagged, summary.duplicates) == (1, 1)
    assert [(Path(f.source_path).name, "unsupported file type .xlsx" in f.reason) for f in summary.failures] == [
        ("table.xlsx", True)
    ]
    assert pq.read_table(tmp_path / "out" / "documents").num_rows == 1


def test_a_folder_of_another_model_is_refused(tmp_path: Path, tfidf_model: TrainResult) -> None:
    (tmp_path / "in").mkdir()
    write_txt(tmp_path / "in" / "a.txt")
    _tag([tmp_path / "in"], tfidf_model, tmp_path / "out")
    path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["model"]["version"] = "older"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ValueError, match=r"holds results of model .* version older"):
        _tag([tmp_path / "in"], tfidf_model, tmp_path / "out")


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"engine": "spark"}, "engine must be"), ({"workers": 0}, "workers"), ({"inputs": ["nowhere/"]}, "nowhere")],
)
def test_bad_arguments_fail_before_any_work(
    tmp_path: Path, tfidf_model: TrainResult, kw: dict[str, Any], message: str
) -> None:
    write_txt(tmp_path / "a.txt")
    inputs = kw.pop("inputs", [tmp_path / "a.txt"])
    with pytest.raises(ValueError, match=message):
        _tag(inputs, tfidf_model, tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()
