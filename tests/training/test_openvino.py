"""The OpenVINO paths: padded batches, the converted graph cached per model version, auto's choice.

(Their scores and labels against fp32 are tested with torch's paths, in test_numerics.py.)

Every test here is skipped, with the reason, where the ``openvino`` extra is not installed (``make
install`` installs it, so CI runs them).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import policytag.training.numerics.openvino as ov_engine
import policytag.training.numerics.probe as numerics_probe
from policytag.training.bert_predictor import BertPredictor
from policytag.training.model_folder import GUARD
from policytag.training.numerics.cpu import unavailable_reason
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult

MISSING = ov_engine.missing_reason()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"OpenVINO paths not tested: {MISSING}")


def _runs_here(path: str) -> None:
    why = unavailable_reason(path, torch.device("cpu"))
    if why is not None:
        pytest.skip(f"{path}: {why}")


@pytest.fixture
def folder(trained: TrainResult, tmp_path: Path) -> Path:
    """A copy of the trained model without the engines/ cache other tests may have left in it."""
    return Path(shutil.copytree(trained.folder, tmp_path / "model", ignore=shutil.ignore_patterns("engines")))


def test_padded_rows_score_as_they_do_alone(folder: Path, gold_texts: list[str]) -> None:
    """The graph is traced on a padded input: a short sentence padded in a batch scores as it does alone."""
    _runs_here("openvino-bf16")
    fast = load_predictor(folder, numerics="openvino-bf16")
    texts = [min(gold_texts, key=len), max(gold_texts, key=len)]
    together, _ = fast.predict_proba(texts)
    alone, _ = fast.predict_proba(texts[:1])
    assert np.abs(together[0] - alone[0]).max() < 0.01


def test_the_graph_is_cached_for_this_model_version_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _runs_here("openvino-bf16")
    version = json.loads((folder / "policytag.json").read_text(encoding="utf-8"))["version"]
    first = load_predictor(folder, numerics="openvino-bf16").predict_proba(["推进严格规范公正文明执法。"])[0]
    meta = json.loads((folder / "engines" / "openvino-bf16" / "engine.json").read_text(encoding="utf-8"))
    assert meta["model_version"] == version and meta["numerics"] == "openvino-bf16"
    assert not [p for p in (folder / "engines").iterdir() if p.name.startswith(".")]  # no temporary left

    conversions: list[str] = []
    real = ov_engine._convert

    def counting(*args: Any, **kwargs: Any) -> Any:
        conversions.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(ov_engine, "_convert", counting)
    again = load_predictor(folder, numerics="openvino-bf16").predict_proba(["推进严格规范公正文明执法。"])[0]
    assert conversions == [] and np.array_equal(first, again)  # taken from the cache

    # The folder retrained in place (another version): its old graph is never loaded.
    meta["model_version"] = "202001010000-deadbeef"
    (folder / "engines" / "openvino-bf16" / "engine.json").write_text(json.dumps(meta), encoding="utf-8")
    load_predictor(folder, numerics="openvino-bf16")
    assert conversions == ["openvino-bf16"]
    rewritten = json.loads((folder / "engines" / "openvino-bf16" / "engine.json").read_text(encoding="utf-8"))
    assert rewritten["model_version"] == version


def test_a_read_only_folder_still_serves_the_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _runs_here("openvino-bf16")

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(ov_engine.tempfile, "mkdtemp", refuse)
    predictor = load_predictor(folder, numerics="openvino-bf16")
    assert predictor.predict(["推进严格规范公正文明执法。"])[0].labels
    assert not (folder / "engines" / "openvino-bf16").exists()


def test_auto_takes_an_openvino_path_when_it_is_the_fastest_qualified(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runs_here("openvino-bf16")
    guard = json.loads((folder / GUARD).read_text(encoding="utf-8"))
    for name, result in guard["paths"].items():
        result["qualifies"] = name in ("fp32", "openvino-bf16", "int8")
    (folder / GUARD).write_text(json.dumps(guard), encoding="utf-8")

    def fake_forward(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> float:
        if isinstance(model, ov_engine.OpenVinoModel):
            return 1 / 400.0
        quantized = any("quantized" in type(m).__module__ for m in model.modules())
        return 1 / (300.0 if quantized else 100.0)

    monkeypatch.setattr(numerics_probe, "forward_seconds", fake_forward)
    predictor = load_predictor(folder, numerics="auto")
    info = predictor.numerics_info
    assert info["used"] == "openvino-bf16", info
    assert info["probe_speedup"]["openvino-bf16"] == 4.0 and "openvino-bf16" in info["qualified"]
    assert isinstance(predictor, BertPredictor) and isinstance(predictor.model, ov_engine.OpenVinoModel)


def test_an_unknown_engine_name_is_refused() -> None:
    with pytest.raises(ValueError, match="openvino-fp8"):
        ov_engine.to_openvino(torch.nn.Linear(2, 2), "openvino-fp8")
