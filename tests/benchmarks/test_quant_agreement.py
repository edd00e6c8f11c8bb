from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.quant_agreement import main
from policytag.core.jsonl import read_jsonl
from policytag.training.model_folder import GUARD
from policytag.training.numerics.guard import read_guard
from policytag.training.train import TrainResult
from tests.support.paths import ROOT


def test_prints_the_guard_and_writes_it_on_request(
    tiny_model: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "m"
    shutil.copytree(tiny_model.folder, folder)
    (folder / GUARD).unlink()
    assert main(["--model", str(folder), "--numerics", "fp32", "int8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["summary"]) == {"fp32", "int8"}
    assert report["summary"]["fp32"] == {
        "agreement": 1.0,
        "macro_f1": report["paths"]["fp32"]["macro_f1"],
        "macro_f1_change": 0.0,
        "qualifies": True,
    }
    assert report["data"]["n_sentences"] == len(read_jsonl(ROOT / "labels" / "gold.jsonl"))
    assert read_guard(folder) is None  # printed only

    assert main(["--model", str(folder), "--numerics", "int8", "--write"]) == 0
    stored = read_guard(folder)
    assert stored is not None and set(stored["paths"]) == {"int8"}
    assert stored["model_version"] == json.loads((folder / "policytag.json").read_text())["version"]


def test_refuses_a_tfidf_model(tfidf_model: TrainResult) -> None:
    with pytest.raises(SystemExit, match="not a BERT model"):
        main(["--model", str(tfidf_model.folder)])
