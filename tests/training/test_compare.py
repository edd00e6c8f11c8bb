"""``policytag compare`` and its fold plan: grouped folds with no duplicate across them, a seeded bootstrap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from policytag.cli import main
from policytag.core.jsonl import read_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import locality_of
from policytag.labels.fold_guard import DuplicateIndex, guarded_folds
from policytag.training.compare import _ranked, bootstrap_macro_f1, load_candidates
from policytag.training.metrics import multilabel_metrics
from tests.support.paths import ROOT
from tests.support.training import gold_of_localities

GOLD = ROOT / "labels" / "gold.jsonl"


@pytest.fixture(scope="module")
def gold() -> list[dict[str, Any]]:
    return read_jsonl(GOLD)


@pytest.fixture(scope="module")
def small_gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gold sentences of 40 localities (a few hundred sentences): folds that train in a second."""
    return gold_of_localities(tmp_path_factory.mktemp("data") / "small.jsonl", 40)


def test_folds_never_put_one_locality_on_both_sides(gold: list[dict[str, Any]], taxonomy: Taxonomy) -> None:
    folds = guarded_folds(gold, folds=5, seed=42)
    assert sorted(d for f in folds for d in f.test_docs) == sorted({r["doc"] for r in gold})
    for fold in folds:
        split, dropped = fold.split(gold, taxonomy, validation_docs=3, seed=42)
        test_places = {locality_of(r) for r in split.test}
        assert not test_places & {locality_of(r) for r in split.train + split.validation}
        assert {r["doc"] for r in split.test} == set(fold.test_docs)
        assert len(split.test) + len(split.train) + len(split.validation) + len(fold.dropped) == len(gold)
        assert dropped["train"] + dropped["validation"] == len(fold.dropped) == dropped["exact"] + dropped["near"]


def _records(texts: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"id": f"{d}:{i}", "doc": d, "locality": f"城{d}", "text": t, "labels": ["legal_aid"]}
        for d, ts in texts.items()
        for i, t in enumerate(ts)
    ]


LONG = "坚持以习近平新时代中国特色社会主义思想为指导，全面推进法治政府建设，为困难群众办理法律援助案件一千二百余件"


def test_near_duplicates_of_a_test_sentence_leave_the_training_side(taxonomy: Taxonomy) -> None:
    records = _records(
        {
            "a": [LONG, "本区开展人民调解"],
            "b": [LONG.replace("，", "  ,") + "。", "复议案件办结"],  # other punctuation and spaces: exact
            "c": [LONG.replace("一千二百", "一千三百"), "社区矫正工作"],  # one character changed: near
            "d": [LONG[:20], "普法宣传"],  # a short fragment of it: neither
            "e": ["行政执法监督", "律师队伍建设"],
            "f": ["公证服务", "仲裁委员会"],
        }
    )
    fold = next(f for f in guarded_folds(records, folds=0) if f.test_docs == ("a",))
    assert {records[i]["doc"] for i in fold.exact} == {"b"}
    assert {records[i]["doc"] for i in fold.near} == {"c"}
    for validation_docs in (1, 3):
        split, dropped = fold.split(records, taxonomy, validation_docs=validation_docs, seed=1)
        kept = {r["text"] for r in split.train + split.validation}
        assert not {records[i]["text"] for i in fold.dropped} & kept
        assert LONG[:20] in kept and "复议案件办结" in kept  # only the duplicates go, not their documents
        assert dropped["exact"] == dropped["near"] == 1 and dropped["train"] + dropped["validation"] == 2
    # and the other way round: with b tested, a's and c's copies leave training
    fold_b = next(f for f in guarded_folds(records, folds=0, index=DuplicateIndex(records)) if f.test_docs == ("b",))
    assert {records[i]["doc"] for i in fold_b.dropped} == {"a", "c"}


def test_an_index_of_other_records_is_refused() -> None:
    records = _records({"a": ["人民调解"], "b": ["法律援助"], "c": ["行政复议"]})
    with pytest.raises(ValueError, match="covers 2 records, not the 3"):
        guarded_folds(records, folds=0, index=DuplicateIndex(records[:2]))


def _noisy_predictions(taxonomy: Taxonomy, docs: int = 30) -> tuple[list[list[str]], list[list[str]], list[str]]:
    rng = np.random.default_rng(3)
    ids = [i for i in taxonomy.ids if i != "other"][:5]
    truth, predicted, doc_of = [], [], []
    for d in range(docs):
        for _ in range(8):
            label = ids[int(rng.integers(len(ids)))]
            truth.append([label])
            predicted.append([label] if rng.random() < 0.7 else [ids[int(rng.integers(len(ids)))]])
            doc_of.append(f"doc{d}")
    return truth, predicted, doc_of


def test_bootstrap_interval_holds_the_estimate_and_repeats_with_its_seed(taxonomy: Taxonomy) -> None:
    truth, predicted, docs = _noisy_predictions(taxonomy)
    point = multilabel_metrics(truth, predicted, taxonomy)["macro_f1"]
    lo, hi = bootstrap_macro_f1(truth, predicted, docs, taxonomy, resamples=1000, seed=7)
    assert lo < point < hi and hi - lo < 0.3
    assert bootstrap_macro_f1(truth, predicted, docs, taxonomy, resamples=1000, seed=7) == (lo, hi)
    assert bootstrap_macro_f1(truth, predicted, docs, taxonomy, resamples=1000, seed=8) != (lo, hi)
    one = bootstrap_macro_f1(truth[:8], predicted[:8], docs[:8], taxonomy, resamples=50)
    assert one[0] == one[1] == pytest.approx(multilabel_metrics(truth[:8], predicted[:8], taxonomy)["macro_f1"])
    with pytest.raises(ValueError, match="documents"):
        bootstrap_macro_f1(truth, predicted, docs[:-1], taxonomy)


def test_ties_go_to_the_faster() -> None:
    ranked = _ranked(
        [
            {"name": "slow", "macro_f1_mean": 0.80012, "seconds": 90.0},
            {"name": "fast", "macro_f1_mean": 0.79981, "seconds": 10.0},
            {"name": "best", "macro_f1_mean": 0.85, "seconds": 500.0},
        ]
    )
    assert [(r["rank"], r["name"]) for r in ranked] == [(1, "best"), (2, "fast"), (3, "slow")]


def _config(path: Path, **values: Any) -> Path:
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_two_tfidf_candidates_are_ranked_and_written(
    small_gold: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = {"data": str(small_gold), "kind": "tfidf", "limit": 300, "validation_docs": 2, "seed": 3}
    a = _config(tmp_path / "weak.yaml", tfidf_c=0.05, **common)
    b = _config(tmp_path / "strong.yaml", tfidf_c=4.0, **common)
    out = tmp_path / "cmp"
    assert (
        main(["compare", "--configs", str(a), str(b), "--cv-folds", "3", "--out", str(out), "--resamples", "200"]) == 0
    )
    printed = capsys.readouterr().out
    res = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert {"data", "grouping", "seed", "folds", "bootstrap", "candidates"} <= set(res)
    assert res["grouping"] == "3 folds by locality" and len(res["folds"]) == 3
    keys = {"rank", "name", "config", "kind", "macro_f1_mean", "macro_f1_std", "macro_f1_pooled", "macro_f1_ci95"}
    keys |= {"micro_f1_mean", "micro_f1_pooled", "per_label_f1", "other", "seconds", "folds"}
    for c in res["candidates"]:
        assert keys <= set(c)
        lo, hi = c["macro_f1_ci95"]
        assert lo <= c["macro_f1_pooled"] <= hi
        assert {"precision", "recall"} <= set(c["other"])
        assert [f["validation_docs"] for f in c["folds"]] == [
            f["validation_docs"] for f in res["candidates"][0]["folds"]
        ]
    ranked = res["candidates"]
    assert [c["rank"] for c in ranked] == [1, 2]
    assert ranked[0]["macro_f1_mean"] >= ranked[1]["macro_f1_mean"]
    first, second = (printed.index(f"  {c['name']} ") for c in ranked)
    assert first < second  # the table prints in rank order
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_candidate_on_other_data_is_refused(
    small_gold: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _config(tmp_path / "a.yaml", data=str(small_gold), kind="tfidf")
    b = _config(tmp_path / "b.yaml", data=str(GOLD), kind="tfidf")
    with pytest.raises(ValueError, match=r"b\.yaml: data .*gold\.jsonl is not the data of .*a\.yaml"):
        load_candidates([a, b])
    assert main(["compare", "--configs", str(a), str(b), "--out", str(tmp_path / "x")]) == 2
    assert "b.yaml" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
