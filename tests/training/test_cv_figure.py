"""The grouped-CV figure a model quotes: read from a compare report into the manifest and the card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policytag.cli import main
from policytag.training.config import TrainConfig
from policytag.training.cv_figure import read_cv_figure
from policytag.training.train import train
from tests.support.paths import ROOT

ROW = {
    "name": "cand",
    "config": "c.yaml",
    "macro_f1_mean": 0.81234,
    "macro_f1_std": 0.012,
    "macro_f1_pooled": 0.82,
    "macro_f1_ci95": [0.8, 0.84],
    "micro_f1_mean": 0.83,
    "other": {"precision": 0.9, "recall": 0.7},
}


def _report(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "compare.json"
    path.write_text(json.dumps({"data": "g.jsonl", "grouping": "5 folds by locality", "candidates": rows}))
    return path


def test_the_named_candidate_is_read_and_a_wrong_name_is_refused(tmp_path: Path) -> None:
    path = _report(tmp_path, [ROW, {**ROW, "name": "other-cand", "macro_f1_mean": 0.5}])
    figure = read_cv_figure(path, "cand")
    assert figure["macro_f1_mean"] == 0.81234 and figure["grouping"] == "5 folds by locality"
    with pytest.raises(ValueError, match=r"no candidate 'nope' \(candidates: cand, other-cand\)"):
        read_cv_figure(path, "nope")
    with pytest.raises(FileNotFoundError, match="no such compare report"):
        read_cv_figure(tmp_path / "missing.json", "cand")
    with pytest.raises(ValueError, match="lacks"):
        read_cv_figure(_report(tmp_path, [{"name": "cand"}]), "cand")


def test_config_needs_both_fields() -> None:
    with pytest.raises(ValueError, match="cv_report and cv_candidate go together"):
        TrainConfig(kind="tfidf", cv_report="r.json")


def test_the_card_and_manifest_quote_the_figure(tmp_path: Path) -> None:
    report = _report(tmp_path, [ROW])
    cfg = TrainConfig(
        kind="tfidf",
        data=str(ROOT / "labels" / "gold.jsonl"),
        output_dir=str(tmp_path / "m"),
        limit=400,
        cv_report=str(report),
        cv_candidate="cand",
    )
    folder = train(cfg, progress=False).folder
    manifest = json.loads((folder / "policytag.json").read_text())
    assert manifest["grouped_cv"]["macro_f1_mean"] == 0.81234
    card = (folder / "README.md").read_text()
    assert "macro-F1 **0.812 ± 0.012**" in card and "95 % interval 0.800–0.840" in card


def test_a_wrong_candidate_fails_before_training(tmp_path: Path) -> None:
    cfg = TrainConfig(
        kind="tfidf", output_dir=str(tmp_path / "m"), cv_report=str(_report(tmp_path, [ROW])), cv_candidate="x"
    )
    with pytest.raises(ValueError, match="no candidate 'x'"):
        train(cfg, progress=False)
    assert not (tmp_path / "m").exists()


def test_train_prints_the_figure_to_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(tmp_path, [ROW])
    args = ["train", "--kind", "tfidf", "--limit", "400", "--no-tfidf-search", "--output-dir", str(tmp_path / "m")]
    assert main([*args, "--cv-report", str(report), "--cv-candidate", "cand"]) == 0
    out = capsys.readouterr().out
    assert "expected on reports of new places" in out and "macro-F1 0.812 ± 0.012" in out and "0.800–0.840" in out
