"""``--engine ray``: Ray Data's tables equal the local engine's, and a bad file fails alone.

One Ray run for the module (Ray's start-up is most of its time), on a few small documents written here
and the tiny TF-IDF model; the local engine tags the same folder for the comparison.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from policytag.collection import ray_engine, store
from policytag.collection.engine import EngineOptions, InputFile
from policytag.collection.job import TagSummary, tag_collection
from policytag.collection.prepare import prepare_document
from policytag.collection.schema import documents_table, sentences_table, tagged_from_predictions
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult

# Short sentences written for these tests; each document takes a different run of them.
_LINES = [
    "深入开展法律援助工作，扩大法律援助覆盖面。",
    "加强行政执法监督，规范涉企行政执法检查。",
    "健全人民调解组织网络，及时化解矛盾纠纷。",
    "持续优化法治化营商环境。",
    "依法办理行政复议案件。",
    "开展宪法宣传周活动。",
    "推进政务服务“一网通办”。",
]


def _write_documents(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(6):
        lines = [_LINES[(n + k) % len(_LINES)] for k in range(3 + n)]
        text = f"某市{2020 + n}年法治政府建设年度报告\n" + "\n".join(lines) + f"\n第{n}号报告完。\n"
        (folder / f"report{n}.txt").write_text(text, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")  # a bad file among good ones


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tfidf_model: TrainResult) -> dict[str, TagSummary]:
    """The same folder tagged by both engines (two workers, two documents a shard, so several shards)."""
    pytest.importorskip("ray.data")
    root = tmp_path_factory.mktemp("ray_engine")
    _write_documents(root / "reports")
    runs = {
        engine: tag_collection(
            [root / "reports"],
            model=tfidf_model.folder,
            out=root / engine,
            engine=engine,
            workers=2,
            shard_documents=2,
            progress=False,
        )
        for engine in ("ray", "local")
    }
    print({engine: round(summary.seconds, 1) for engine, summary in runs.items()})
    return runs


def test_ray_tables_equal_the_local_engines(runs: dict[str, TagSummary]) -> None:
    ray_sentences, ray_documents = store.read_tables(runs["ray"].results)
    local_sentences, local_documents = store.read_tables(runs["local"].results)
    assert ray_documents.num_rows == 6
    assert ray_sentences.num_rows == runs["local"].total_sentences > 0
    assert ray_sentences.equals(local_sentences)
    assert ray_documents.equals(local_documents)
    assert (runs["ray"].tagged, runs["ray"].sentences) == (runs["local"].tagged, runs["local"].sentences)


def test_a_bad_file_is_a_failure_not_a_crash(runs: dict[str, TagSummary]) -> None:
    ray_errors = [json.loads(line) for line in (runs["ray"].results / store.ERRORS).read_text().splitlines()]
    local_errors = [json.loads(line) for line in (runs["local"].results / store.ERRORS).read_text().splitlines()]
    assert [e["path"] for e in ray_errors] == [f.source_path for f in runs["ray"].failures]
    assert len(ray_errors) == 1 and ray_errors[0]["path"].endswith("empty.txt")
    assert [(e["path"], e["reason"], e["sha256"]) for e in ray_errors] == [
        (e["path"], e["reason"], e["sha256"]) for e in local_errors
    ]
    assert runs["ray"].exit_status == 0


def test_shards_are_paired_and_nothing_is_left_behind(runs: dict[str, TagSummary]) -> None:
    results = runs["ray"].results
    names = store.shard_names(results)
    assert len(names) == 4  # seven files (one bad), two a shard
    assert sorted(p.name for p in (results / store.SENTENCES).iterdir()) == names
    assert sorted(p.name for p in (results / store.DOCUMENTS).iterdir()) == names
    assert not list(results.glob(".ray-*"))
    assert store.done(results) and store.read_manifest(results)["engine"] == "ray"  # type: ignore[index]
    import ray

    assert not ray.is_initialized()  # the engine stopped the Ray it started


def test_a_rerun_skips_what_ray_tagged(runs: dict[str, TagSummary], tfidf_model: TrainResult) -> None:
    """The job reads Ray's shards as done: the good files again → nothing to tag (and Ray is not started)."""
    results = runs["ray"].results
    before = store.read_tables(results)
    good = sorted((results.parent / "reports").glob("report*.txt"))
    again = tag_collection(good, model=tfidf_model.folder, out=results, engine="ray", progress=False)
    assert again.tagged == 0 and again.already_done == 6
    after = store.read_tables(results)
    assert after[0].equals(before[0]) and after[1].equals(before[1])


def test_tagger_isolates_a_document_the_model_fails_on(tmp_path: Path, tfidf_model: TrainResult) -> None:
    """The actor's step without Ray: rows only from the schema functions; a failing document fails alone."""
    _write_documents(tmp_path)
    docs = [prepare_document(tmp_path / f"report{n}.txt") for n in range(3)]
    tagger = ray_engine.Tagger(str(tfidf_model.folder), batch_sentences=4)
    predictor = load_predictor(tfidf_model.folder)
    # the same rows as the predictor's own answers give, through the schema's table builders
    answers = predictor.predict([t for d in docs for t in d.model_texts])
    tagged = tagged_from_predictions(docs, answers, predictor.taxonomy)
    expected = sentences_table(tagged, model_version=predictor.version, taxonomy=predictor.taxonomy).to_pylist()
    out = tagger.tag_shard(docs)
    assert [(r["doc_id"], r["sentence_index"], r["labels"]) for r in out["sentences"]] == [
        (r["doc_id"], r["sentence_index"], r["labels"]) for r in expected
    ]
    pairs = zip(out["sentences"], expected, strict=True)
    assert all(abs(a["scores"][k] - b["scores"][k]) < 1e-5 for a, b in pairs for k in a["scores"])
    assert out["documents"] == documents_table(tagged, predictor.taxonomy).to_pylist() and out["failures"] == []

    poison = docs[1].model_texts[0]
    real_predict = tagger.predictor.predict_proba

    def predict_proba(texts: list[str]) -> object:
        if poison in texts:
            raise RuntimeError("model broke")
        return real_predict(texts)

    tagger.predictor.predict_proba = predict_proba  # type: ignore[method-assign, assignment]
    out = tagger.tag_shard(docs)
    assert [d["doc_id"] for d in out["documents"]] == [docs[0].doc_id, docs[2].doc_id]
    reason = "tagging failed: RuntimeError: model broke"
    assert out["failures"] == [{"source_path": docs[1].source_path, "reason": reason, "sha256": docs[1].sha256}]


def test_without_the_ray_extra_the_error_says_how_to_install_it(
    tmp_path: Path, tfidf_model: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    options = EngineOptions(model=tfidf_model.folder, results=tmp_path / "out", run_id="r1", progress=False)
    with pytest.raises(ValueError, match=r"--engine ray needs the ray extra: pip install 'policytag\[ray\]'"):
        ray_engine.run([InputFile(tmp_path / "a.txt", "a.txt")], options)
