"""Out-of-fold thresholds, the error analysis and the TF-IDF settings search (TF-IDF on a few hundred sentences)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policytag.core.jsonl import read_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split, document_split, locality_of, read_labelled
from policytag.training.config import TrainConfig, load_config
from policytag.training.error_analysis import confused_pairs
from policytag.training.kinds import get_kind
from policytag.training.metrics import multilabel_metrics
from policytag.training.model_folder import ERRORS, PLOT_CONFUSED_PAIRS, PLOTS
from policytag.training.oof import grouped_folds
from policytag.training.predictor import load_predictor
from policytag.training.tfidf import TfidfPredictor
from policytag.training.thresholds import tune_thresholds
from policytag.training.train import TrainResult, fit, train
from tests.support.paths import ROOT

GOLD = str(ROOT / "labels" / "gold.jsonl")


def _config(tmp: Path, **kw: Any) -> TrainConfig:
    values: dict[str, Any] = {
        "data": GOLD,
        "output_dir": str(tmp / "oof"),
        "kind": "tfidf",
        "thresholds": "oof",
        "oof_folds": 3,
        "validation_docs": 2,
        "limit": 500,
    }
    values.update(kw)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def oof_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(_config(tmp_path_factory.mktemp("models"), threshold_floor=0.3), progress=False)


def _small_split(taxonomy: Taxonomy) -> Split:
    """About 60 documents of the gold set, 10 of them a test side that out-of-fold work must never see."""
    records = read_labelled(GOLD, taxonomy)
    docs = sorted({r["doc"] for r in records})[:60]
    subset = [r for r in records if r["doc"] in set(docs)]
    return document_split(subset, taxonomy, test_docs=docs[-10:], validation_docs=2)


def test_oof_never_sees_a_document_outside_the_training_side(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    split = _small_split(taxonomy)
    kind = get_kind("tfidf")
    fitted: list[Split] = []
    scored: list[str] = []
    real_fit, real_proba = type(kind).fit, TfidfPredictor.predict_proba

    def spy_fit(self: Any, cfg: TrainConfig, s: Split, tax: Taxonomy, *, progress: bool) -> Any:
        fitted.append(s)
        return real_fit(self, cfg, s, tax, progress=progress)

    def spy_proba(self: TfidfPredictor, texts: Any) -> Any:
        scored.extend(texts)
        return real_proba(self, texts)

    monkeypatch.setattr(type(kind), "fit", spy_fit)
    monkeypatch.setattr(TfidfPredictor, "predict_proba", spy_proba)
    cfg = _config(tmp_path, limit=None)
    result = fit(cfg, split, taxonomy, progress=False)

    side = {r["doc"] for r in split.train + split.validation}
    test_texts = {r["text"] for r in split.test} - {r["text"] for r in split.train + split.validation}
    assert len(fitted) == 1 + 3  # the final model and one per fold
    for s in fitted:
        assert {r["doc"] for r in s.train + s.validation} <= side
    assert fitted[0] is split  # the final model: the kind's own fit on the split it was given
    assert all(not s.test for s in fitted[1:])  # the out-of-fold models are never handed a test side
    assert not test_texts & set(scored)  # and no test sentence is ever scored
    inner = [{r["doc"] for r in s.train} for s in fitted[1:]]
    assert set().union(*inner) == {r["doc"] for r in split.train}
    assert result.oof_probs is not None and result.oof_probs.shape == (len(split.train), len(taxonomy))
    assert not np.isnan(result.oof_probs).any()


def test_folds_keep_localities_and_shared_texts_together(taxonomy: Taxonomy) -> None:
    records = read_labelled(GOLD, taxonomy)[:800]
    records = [*records, dict(records[0], doc="copy", locality="elsewhere", id="copy:1")]  # a repeated sentence
    held, grouping = grouped_folds(records, folds=4, seed=1)
    assert grouping == "4 folds by locality" and sorted(np.concatenate(held)) == list(range(len(records)))
    fold_of = {int(i): k for k, h in enumerate(held) for i in h}
    for key in {locality_of(r) for r in records}:
        assert len({fold_of[i] for i, r in enumerate(records) if locality_of(r) == key}) == 1
    assert fold_of[0] == fold_of[len(records) - 1]
    one_place = [dict(r, province="p", locality="one") for r in records]  # several documents, one place
    assert grouped_folds(one_place, folds=3, seed=1)[1] == "3 folds by document"
    with pytest.raises(ValueError, match="at least 2 groups"):
        grouped_folds([dict(r, doc="d", locality="l") for r in records[:5]], folds=3, seed=1)


def test_thresholds_respect_the_floor(oof_model: TrainResult, taxonomy: Taxonomy) -> None:
    probs = np.full((6, 2), 0.12)
    probs[:3, 0] = 0.35  # the best thresholds, 0.13-0.35, lie mostly below the floor
    targets = np.zeros((6, 2), dtype=int)
    targets[:3, 0] = 1
    targets[0, 1] = 1
    thresholds, how = tune_thresholds(probs, targets, floor=0.3)
    assert how[0] == "tuned" and 0.3 <= thresholds[0] <= 0.35 and thresholds[1] >= 0.3
    record = json.loads((oof_model.folder / "thresholds.json").read_text(encoding="utf-8"))
    assert record["floor"] == 0.3 and min(record["thresholds"].values()) >= 0.3
    assert "out-of-fold probabilities" in record["tuned_on"] and "folds by" in record["tuned_on"]


def test_other_precision_and_recall_are_reported(oof_model: TrainResult, taxonomy: Taxonomy) -> None:
    m = multilabel_metrics([["other"], ["other"], ["mediation"]], [["other"], ["mediation"], ["other"]], taxonomy)
    assert (m["other"]["precision"], m["other"]["recall"]) == (0.5, 0.5)
    saved = json.loads((oof_model.folder / "metrics.json").read_text(encoding="utf-8"))
    for part in ("validation", "oof"):
        assert {"precision", "recall", "f1", "support"} <= set(saved[part]["other"])
    assert saved["oof"]["n"] == 500 and "held out" in saved["validation"]["note"]
    card = (oof_model.folder / "README.md").read_text(encoding="utf-8")
    assert "`other` (answered when no category passes its threshold): precision" in card


def test_errors_and_confused_pairs_are_written(oof_model: TrainResult) -> None:
    folder = oof_model.folder
    rows = read_jsonl(folder / ERRORS)
    assert (folder / PLOTS / PLOT_CONFUSED_PAIRS).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    gold = {r["id"]: r for r in read_jsonl(GOLD)}
    assert 0 < len(rows) <= 200
    for row in rows:
        assert gold[row["id"]]["text"] == row["text"] and row["doc"] in data["train_docs"]
        assert sorted(gold[row["id"]]["labels"]) == sorted(row["labels"])
    assert set(rows[0]["scores"]) == set(load_predictor(folder).taxonomy.ids)
    losses = [row["loss"] for row in rows]
    assert losses == sorted(losses, reverse=True)
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"`{ERRORS}`" in card and PLOT_CONFUSED_PAIRS in card
    assert confused_pairs([["mediation"]], [["legal_aid", "mediation"]]) == [("legal_aid", "mediation", 1)]


def test_search_picks_from_the_grid_and_records_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = get_kind("tfidf")
    calls: list[int] = []
    real_fit = type(kind).fit

    def counting_fit(self: Any, cfg: TrainConfig, s: Split, tax: Taxonomy, *, progress: bool) -> Any:
        calls.append(len(s.train))
        return real_fit(self, cfg, s, tax, progress=progress)

    monkeypatch.setattr(type(kind), "fit", counting_fit)
    cfg = _config(
        tmp_path,
        tfidf_search=True,
        tfidf_c_grid=[0.5, 8.0],
        tfidf_ngram_grid=[1, 2],
        tfidf_class_weight_grid=["balanced"],
    )
    result = train(cfg, progress=False)
    assert len(calls) == 1  # the search's out-of-fold probabilities are reused for the thresholds
    manifest = json.loads((result.folder / "policytag.json").read_text(encoding="utf-8"))
    search = manifest["base_model"]["search"]
    chosen = search["chosen"]
    assert chosen["c"] in (0.5, 8.0) and chosen["ngram_max"] in (1, 2) and chosen["class_weight"] == "balanced"
    assert len(search["grid"]) == 4 and max(g["macro_f1"] for g in search["grid"]) == next(
        g["macro_f1"] for g in search["grid"] if all(g[k] == chosen[k] for k in chosen)
    )
    config = json.loads((result.folder / "config.json").read_text(encoding="utf-8"))
    assert config["ngram_range"] == [1, chosen["ngram_max"]]
    card = (result.folder / "README.md").read_text(encoding="utf-8")
    assert "(chosen)" in card and "grouped CV on the training side" in card
    assert load_predictor(result.folder).predict(["开展人民调解工作"])[0].labels


def test_configs_and_bad_settings() -> None:
    search = load_config(TrainConfig, ROOT / "training/configs/tfidf-search.yaml")
    assert search.kind == "tfidf" and search.tfidf_search and search.thresholds == "oof"
    bad_settings: list[dict[str, Any]] = [
        {"oof_folds": 1},
        {"tfidf_c_grid": []},
        {"tfidf_class_weight_grid": ["auto"]},
        {"thresholds": "x"},
    ]
    for bad in bad_settings:
        with pytest.raises(ValueError):
            dataclasses.replace(TrainConfig(kind="tfidf"), **bad)
