"""``benchmarks/learning_curve.py``: shares of the training documents, never a test document, JSON and PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.learning_curve import main, sample_training_docs, subsample, training_docs
from policytag.core.jsonl import read_jsonl
from policytag.labels.fold_guard import guarded_folds
from tests.support.training import gold_of_localities


@pytest.fixture(scope="module")
def small_gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gold_of_localities(tmp_path_factory.mktemp("data") / "small.jsonl", 30)


def test_a_share_is_a_subset_of_the_training_documents_and_never_a_test_one(small_gold: Path) -> None:
    records = read_jsonl(small_gold)
    for fold in guarded_folds(records, folds=2, seed=3):
        full = training_docs(records, fold)
        assert full and not set(full) & set(fold.test_docs)
        shares = [sample_training_docs(records, fold, f, seed=1) for f in (0.25, 0.5, 1.0)]
        assert shares[-1] == full
        assert set(shares[0]) <= set(shares[1]) <= set(full)  # smaller shares are prefixes of one shuffle
        assert len(shares[1]) == round(0.5 * len(full)) and shares[1] == sample_training_docs(
            records, fold, 0.5, seed=1
        )
        kept, moved = subsample(records, fold, shares[0])
        assert {r["doc"] for r in kept} <= set(shares[0]) | set(fold.test_docs)
        assert {r["doc"] for r in kept if r["doc"] in fold.test_docs} == set(fold.test_docs)  # tested whole
        assert all(kept[i]["doc"] not in fold.test_docs for i in moved.dropped)
        assert {kept[i]["id"] for i in moved.dropped} <= {records[i]["id"] for i in fold.dropped}
        with pytest.raises(ValueError, match="cannot be training ones"):
            subsample(records, fold, [fold.test_docs[0]])
    with pytest.raises(ValueError, match=r"lies in \(0, 1\]"):
        sample_training_docs(records, fold, 0.0, seed=1)


def _config(path: Path, **values: Any) -> Path:
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_two_tfidf_configs_at_two_shares(small_gold: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = {"data": str(small_gold), "kind": "tfidf", "validation_docs": 2, "seed": 3}
    a = _config(tmp_path / "weak.yaml", tfidf_c=0.05, **common)
    b = _config(tmp_path / "strong.yaml", tfidf_c=4.0, **common)
    png = tmp_path / "out" / "curve.png"
    argv = ["--configs", str(a), str(b), "--folds", "2", "--fractions", "1.0", "0.5", "--limit", "400"]
    assert main([*argv, "--plot", str(png)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {"benchmark", "data", "grouping", "fold_seed", "sample_seed", "fractions", "folds", "candidates"} <= set(res)
    assert res["grouping"] == "2 folds by locality" and res["fractions"] == [0.5, 1.0] and len(res["folds"]) == 2
    assert [c["name"] for c in res["candidates"]] == ["weak", "strong"]
    for c in res["candidates"]:
        assert c["limit"] == 400 and c["last_step_gain"] is not None
        shares = [p["share_of_documents"] for p in c["points"]]
        assert shares == sorted(shares) and shares[-1] == 1.0 and 0.4 < shares[0] < 0.6
        docs = [p["documents_mean"] for p in c["points"]]
        assert docs[0] < docs[1]
        for p in c["points"]:
            assert {"macro_f1_mean", "macro_f1_std", "macro_f1_min", "macro_f1_max", "n_train_mean"} <= set(p)
            assert p["macro_f1_min"] <= p["macro_f1_mean"] <= p["macro_f1_max"] and len(p["folds"]) == 2
            assert all(f["n_train"] <= 400 and f["validation_docs"] >= 1 for f in p["folds"])
        # every share is scored on the same, whole test side
        assert [f["n_test"] for f in c["points"][0]["folds"]] == [f["n_test"] for f in c["points"][1]["folds"]]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
