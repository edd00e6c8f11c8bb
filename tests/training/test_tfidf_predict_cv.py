from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policytag.cli import main
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.documents import read_document
from policytag.training.config import TrainConfig
from policytag.training.cv import cross_validate
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult
from tests.support.paths import ROOT


def test_tfidf_folder_has_the_same_contract_without_pickle(tfidf_model: TrainResult) -> None:
    folder = tfidf_model.folder
    names = {p.name for p in folder.iterdir()}
    assert {"model.safetensors", "vocabulary.json", "thresholds.json", "taxonomy.json", "metrics.json"} <= names
    assert not any(n.endswith((".pkl", ".joblib", ".bin")) for n in names)
    predictor = load_predictor(folder)
    preds = predictor.predict(["全面落实法律援助工作", "联系电话:010-12345678"])
    assert all(p.labels == ["other"] or "other" not in p.labels for p in preds)
    assert set(preds[0].scores) == set(predictor.taxonomy.ids)


def test_evaluate_json_on_gold(tfidf_model: TrainResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["evaluate", "--model", str(tfidf_model.folder), "--data", str(ROOT / "labels/gold.jsonl"), "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert {"macro_f1", "micro_f1", "per_label"} <= set(out)
    assert 0.0 < out["macro_f1"] <= 1.0 and out["n"] == len(read_jsonl(ROOT / "labels/gold.jsonl"))


def test_evaluate_rejects_labels_unknown_to_the_model(
    tfidf_model: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"text": "好", "labels": ["mediation"]}\n{"text": "好", "labels": ["tax"]}\n', encoding="utf-8")
    assert main(["evaluate", "--model", str(tfidf_model.folder), "--data", str(bad)]) == 2
    assert "x.jsonl:2: field 'labels': unknown label id 'tax'" in capsys.readouterr().err


def test_predict_document_with_offsets(tfidf_model: TrainResult, tmp_path: Path) -> None:
    src = ROOT / "seeds" / "003_fb63a9ae8bf308c5.txt"
    out = tmp_path / "tagged.jsonl"
    assert main(["predict", "--model", str(tfidf_model.folder), str(src), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    text = read_document(src).text
    assert len(rows) == 93
    for r in rows:
        assert text[r["start"] : r["end"]] == r["text"]
        assert r["labels"] and set(r["scores"]) >= set(r["labels"])


def test_predict_jsonl_and_bad_input(
    tfidf_model: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text('{"id": "a", "text": "开展行政复议"}\n{"text": "人民调解"}\n', encoding="utf-8")
    assert main(["predict", "--model", str(tfidf_model.folder), str(src)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "s:2"]
    src.write_text('{"text": "人民调解"}\n{"txt": "x"}\n', encoding="utf-8")
    assert main(["predict", "--model", str(tfidf_model.folder), str(src)]) == 2
    assert "s.jsonl:2: field 'text'" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path / "nope"), str(src)]) == 2


def test_cv_groups_by_locality(taxonomy: Taxonomy) -> None:
    gold = read_jsonl(ROOT / "labels/gold.jsonl")
    res = cross_validate(TrainConfig(data=str(ROOT / "labels/gold.jsonl"), kind="tfidf", cv_folds=5), taxonomy=taxonomy)
    assert res["grouping"] == "5 folds by locality" and len(res["folds"]) == 5
    tested = [d for f in res["folds"] for d in f["test_docs"]]
    assert sorted(tested) == sorted({g["doc"] for g in gold})  # every document tested exactly once
    place = {g["doc"]: (g.get("province"), g.get("locality")) for g in gold}
    for f in res["folds"]:
        assert not set(f["test_docs"]) & set(f["validation_docs"])
        others = {place[d] for g in res["folds"] if g is not f for d in g["test_docs"]}
        assert not {place[d] for d in f["test_docs"]} & others  # a locality sits in one fold only
    assert res["macro_f1_mean"] == pytest.approx(np.mean([f["macro_f1"] for f in res["folds"]]))


def test_cv_leaves_one_document_out_on_request(taxonomy: Taxonomy, tmp_path: Path) -> None:
    docs = sorted({g["doc"] for g in read_jsonl(ROOT / "labels/gold.jsonl")})[:4]
    small = tmp_path / "small.jsonl"
    write_jsonl(small, [g for g in read_jsonl(ROOT / "labels/gold.jsonl") if g["doc"] in docs])
    res = cross_validate(TrainConfig(data=str(small), kind="tfidf", cv_folds=0), taxonomy=taxonomy)
    assert res["grouping"] == "leave one document out"
    assert [f["test_docs"] for f in res["folds"]] == [[d] for d in docs]
    for f in res["folds"]:
        assert f["test_docs"][0] not in f["validation_docs"]
