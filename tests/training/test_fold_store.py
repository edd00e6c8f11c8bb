"""Saved folds: an interrupted ``policytag compare`` resumes at its next fold, and never reuses another's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import policytag.training.cv as cv
from policytag.cli import main
from policytag.training.fold_store import FoldRun, load_fold, save_fold
from tests.support.training import gold_of_localities


@pytest.fixture(scope="module")
def small_gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gold_of_localities(tmp_path_factory.mktemp("data") / "small.jsonl", 30)


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the folds trained (calls of the fold runner's ``fit``)."""
    calls: list[int] = []
    real = cv.fit

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cv, "fit", counting)
    return calls


def _compare(config: Path, out: Path, *extra: str) -> dict[str, Any]:
    args = ["compare", "--configs", str(config), "--cv-folds", "3", "--out", str(out), "--resamples", "50", *extra]
    assert main(args) == 0
    return json.loads((out / "compare.json").read_text(encoding="utf-8"))


def test_a_second_run_takes_the_saved_folds_and_gives_the_same_figures(
    small_gold: Path, tmp_path: Path, fits: list[int]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": str(small_gold), "kind": "tfidf", "validation_docs": 2}), "utf-8")
    first = _compare(config, tmp_path / "out")
    assert len(fits) == 3 and len(list((tmp_path / "out" / "folds" / "c").glob("fold-*.json"))) == 3
    again = _compare(config, tmp_path / "out")
    assert len(fits) == 3  # nothing trained again
    for key in ("macro_f1_mean", "macro_f1_pooled", "macro_f1_ci95", "per_label_f1", "seconds"):
        assert again["candidates"][0][key] == first["candidates"][0][key]
    _compare(config, tmp_path / "out", "--fresh")
    assert len(fits) == 6


def test_a_changed_config_or_a_broken_file_trains_the_fold_again(
    small_gold: Path, tmp_path: Path, fits: list[int]
) -> None:
    config = tmp_path / "c.yaml"
    values = {"data": str(small_gold), "kind": "tfidf", "validation_docs": 2, "tfidf_c": 1.0}
    config.write_text(yaml.safe_dump(values), "utf-8")
    _compare(config, tmp_path / "out")
    saved = sorted((tmp_path / "out" / "folds" / "c").glob("fold-*.json"))
    saved[0].write_text('{"key": ', "utf-8")  # as if cut off (the store writes atomically; a hand may not)
    _compare(config, tmp_path / "out")
    assert len(fits) == 4  # only the broken fold
    config.write_text(yaml.safe_dump(values | {"tfidf_c": 2.0}), "utf-8")
    _compare(config, tmp_path / "out")
    assert len(fits) == 7  # another C: every fold is new


def test_a_saved_fold_is_taken_only_under_its_own_key(tmp_path: Path) -> None:
    run = FoldRun({"fold": 1, "macro_f1": 0.5}, ["d1", "d2"], [["a"], ["b"]], [["a"], []], 1.5)
    save_fold(tmp_path, "k1", run)
    assert load_fold(tmp_path, "k1") == run
    assert load_fold(tmp_path, "k2") is None
    (tmp_path / "fold-k1.json").rename(tmp_path / "fold-k3.json")  # a file whose key is not its name
    assert load_fold(tmp_path, "k3") is None
