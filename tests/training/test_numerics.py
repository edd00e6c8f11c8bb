"""Inference numerics paths (fp32, bf16, int8, auto), length batching and the accuracy guard."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import policytag.training.numerics.cpu as numerics_cpu
import policytag.training.numerics.probe as numerics_probe
from policytag.training.batching import batch_shapes, bucket_rows, bucket_width, length_batches
from policytag.training.bert_predictor import BertPredictor
from policytag.training.model_folder import GUARD
from policytag.training.numerics.guard import measure_guard, qualifies, read_guard
from policytag.training.numerics.openvino import OPENVINO_NUMERICS, missing_reason
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult
from tests.training.conftest import GOLD

# Largest score difference from fp32 each path may have. bf16 keeps 8 bits of mantissa (about
# 2-3 significant digits); dynamic int8 rounds weights and activations to 256 levels per tensor.
# The largest score difference from fp32 over the sample's sentences and labels, measured on the sentences of
# the five original seeds. A maximum of rounding errors grows with the sample (over all 6,322 gold sentences it
# reached 0.0102 for bf16 and 0.041 for int8), so the sample stays fixed rather than following the gold set.
# int8 measured 0.0225 once the scratch vocabulary covered the unlabelled harvest (4,945 tokens instead of
# about 1,070: another model, other rounding), against under 0.02 before.
# The OpenVINO paths, measured on the scratch-tiny model: bf16 rounds as torch's does; int8 quantizes the
# activations statically (calibrated once), which moved scores by up to 0.05.
TOLERANCE = {"bf16": 0.01, "int8": 0.025, "openvino-bf16": 0.01, "openvino-int8": 0.05}


def fast_paths() -> list[str]:
    cpu = torch.device("cpu")
    paths = ("bf16", "int8", "openvino-bf16", "openvino-int8")
    return [p for p in paths if numerics_cpu.unavailable_reason(p, cpu) is None]


# --- batching ------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=300), max_size=80),
    st.integers(min_value=1, max_value=2000),
    st.integers(min_value=1, max_value=64),
)
def test_length_batches_cover_each_sentence_once_within_budget(lengths: list[int], budget: int, rows: int) -> None:
    batches = length_batches(lengths, token_budget=budget, max_batch=rows)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        widths = [lengths[i] for i in b]
        assert widths == sorted(widths) and len(b) <= rows
        # Within budget, or a single sentence that alone exceeds it.
        assert len(b) * max(widths) <= budget or len(b) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=128), max_size=80),
    st.integers(min_value=128, max_value=4096),
    st.integers(min_value=1, max_value=64),
)
def test_shaped_batches_take_only_the_shapes_warm_up_runs(lengths: list[int], budget: int, rows: int) -> None:
    batches = length_batches(lengths, token_budget=budget, max_batch=rows, shapes=True, max_length=128)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    shapes = set(batch_shapes(max_length=128, token_budget=budget, max_batch=rows))
    for b in batches:
        width = bucket_width(max(lengths[i] for i in b), max_length=128)
        assert (bucket_rows(len(b)), width) in shapes
        assert bucket_rows(len(b)) * width <= budget or len(b) == 1  # padding stays within the budget


def test_length_batches_reject_a_zero_budget() -> None:
    with pytest.raises(ValueError, match="token_budget"):
        length_batches([3, 4], token_budget=0, max_batch=8)


# --- the paths -----------------------------------------------------------------------------------


def test_shape_buckets_change_no_score_and_warm_up_covers_every_shape_a_call_makes(
    trained: TrainResult, gold_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = load_predictor(trained.folder, numerics="fp32", shape_buckets=False)
    shaped = load_predictor(trained.folder, numerics="fp32")
    assert isinstance(shaped, BertPredictor) and shaped.shape_buckets and isinstance(plain, BertPredictor)
    texts = gold_texts[:150]
    assert np.abs(shaped.predict_proba(texts)[0] - plain.predict_proba(texts)[0]).max() < 1e-5

    seen: list[tuple[int, ...]] = []
    real = BertPredictor._forward

    def recording(self: BertPredictor, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        seen.append(ids.shape)
        return real(self, ids, mask)

    monkeypatch.setattr(BertPredictor, "_forward", recording)
    assert shaped.warm_up() == len(seen) > 10
    warmed = set(seen)
    seen.clear()
    for n in (1, 2, 3, 7, 40, 150):
        shaped.predict_proba(texts[:n])
    assert set(seen) <= warmed and len(set(seen)) > 3
    seen.clear()
    plain.predict_proba(texts)
    assert not set(seen) <= warmed  # without buckets, batches take shapes no warm-up could list


@pytest.mark.parametrize("path", ["bf16", "int8", "openvino-bf16", "openvino-int8"])
def test_each_path_gives_the_fp32_labels_wherever_rounding_cannot_flip_them(
    trained: TrainResult, gold_texts: list[str], path: str
) -> None:
    """Same label ids as fp32 on the gold sentences, except where a score lies within the path's
    rounding error of its threshold: there a path may legitimately decide the other way, and the
    accuracy guard (not this test) decides whether that is acceptable for the model."""
    if path not in fast_paths():
        pytest.skip(f"{path}: {numerics_cpu.unavailable_reason(path, torch.device('cpu'))}")
    ref = load_predictor(trained.folder, numerics="fp32")
    fast = load_predictor(trained.folder, numerics=path)
    assert fast.numerics_info["used"] == path
    p_ref, _ = ref.predict_proba(gold_texts)
    p_fast, _ = fast.predict_proba(gold_texts)
    tol = TOLERANCE[path]
    assert np.abs(p_fast - p_ref).max() <= tol
    decisive = ~(np.abs(p_ref - ref.thresholds) < tol).any(axis=1)
    assert decisive.sum() >= len(gold_texts) // 4  # the comparison below covers a good share of them
    ref_labels = [p.labels for p in ref.predict(gold_texts)]
    fast_labels = [p.labels for p in fast.predict(gold_texts)]
    differ = [i for i in np.flatnonzero(decisive) if ref_labels[i] != fast_labels[i]]
    assert differ == [], [(gold_texts[i], ref_labels[i], fast_labels[i]) for i in differ]


def test_int8_quantizes_the_encoder_and_keeps_the_head_in_fp32(trained: TrainResult) -> None:
    if "int8" not in fast_paths():
        pytest.skip("no quantized engine")
    predictor = load_predictor(trained.folder, numerics="int8")
    assert isinstance(predictor, BertPredictor) and predictor.model is not None
    encoder = predictor.model.base_model.encoder
    assert isinstance(encoder, torch.nn.Module)
    assert any("quantized" in type(m).__module__ for m in encoder.modules())
    assert not any(isinstance(m, torch.nn.Linear) for m in encoder.modules())
    assert isinstance(predictor.model.classifier, torch.nn.Linear)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps (Linux)")
@pytest.mark.parametrize("path", ["bf16", "int8"])
def test_a_fast_path_lets_go_of_the_checkpoint_file_and_matches_a_conversion_in_memory(
    trained: TrainResult, gold_texts: list[str], tmp_path: Path, path: str
) -> None:
    """Loading bf16 or int8 hands the memory-mapped checkpoint back (the server's memory) after
    dropping its pages block by block; the scores equal those of converting an in-memory copy."""
    if path not in fast_paths():
        pytest.skip(f"{path}: {numerics_cpu.unavailable_reason(path, torch.device('cpu'))}")
    folder = shutil.copytree(trained.folder, tmp_path / "m")  # a file no other test has mapped
    checkpoint = str(folder / "model.safetensors")
    fp32 = load_predictor(folder, numerics="fp32")
    assert isinstance(fp32, BertPredictor)
    assert checkpoint in Path("/proc/self/maps").read_text(), "transformers no longer memory-maps: revisit"
    in_memory = fp32.on_cpu().with_numerics(path)  # a deep copy: no file pages involved
    del fp32
    loaded = load_predictor(folder, numerics=path)
    gc.collect()
    assert checkpoint not in Path("/proc/self/maps").read_text()
    np.testing.assert_array_equal(loaded.predict_proba(gold_texts)[0], in_memory.predict_proba(gold_texts)[0])


def test_bf16_is_refused_on_a_cpu_without_native_bf16(trained: TrainResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numerics_cpu, "cpu_flags", lambda: frozenset({"avx2"}))
    with pytest.raises(ValueError, match="AVX512-BF16"):
        load_predictor(trained.folder, numerics="bf16")


def test_int8_is_cpu_only_and_unknown_numerics_are_named() -> None:
    assert (
        numerics_cpu.unavailable_reason("int8", torch.device("cuda"))
        == "int8 (dynamic quantization) runs on the CPU only"
    )
    with pytest.raises(ValueError, match="fp16"):
        numerics_cpu.unavailable_reason("fp16", torch.device("cpu"))


def test_tfidf_models_take_fp32_or_auto_only(tfidf_model: TrainResult) -> None:
    assert load_predictor(tfidf_model.folder, numerics="auto").numerics_info["used"] == "fp32"
    with pytest.raises(ValueError, match="TF-IDF"):
        load_predictor(tfidf_model.folder, numerics="int8")


# --- the guard and auto --------------------------------------------------------------------------


def test_the_guard_rule() -> None:
    assert qualifies(agreement=0.99, f1_change=-0.01)
    assert not qualifies(agreement=0.9899, f1_change=0.0)
    assert not qualifies(agreement=1.0, f1_change=-0.0101)
    assert qualifies(agreement=1.0, f1_change=0.05)  # a gain is no reason to refuse


def test_train_stores_the_guard_and_it_matches_a_fresh_measurement(trained: TrainResult, taxonomy: Any) -> None:
    stored = read_guard(trained.folder)
    engine = set(OPENVINO_NUMERICS) if missing_reason() is None else set()  # measured when the extra is there
    assert stored is not None and set(stored["paths"]) == {"fp32", "bf16", "int8"} | engine
    manifest = json.loads((trained.folder / "policytag.json").read_text(encoding="utf-8"))
    assert stored["model_version"] == manifest["version"]
    from policytag.labels.dataset import read_labelled

    predictor = load_predictor(trained.folder, numerics="fp32")
    assert isinstance(predictor, BertPredictor)
    fresh = measure_guard(predictor, read_labelled(GOLD, taxonomy))
    for name, result in stored["paths"].items():
        assert fresh["paths"][name]["agreement"] == pytest.approx(result["agreement"])
        assert fresh["paths"][name]["qualifies"] == result["qualifies"]
        assert result["qualifies"] == qualifies(agreement=result["agreement"], f1_change=result["macro_f1_change"])
    assert "## Inference numerics (accuracy guard)" in (trained.folder / "README.md").read_text(encoding="utf-8")


def _copy_with_guard(src: Path, dst: Path, edit: Any) -> Path:
    shutil.copytree(src, dst)
    guard = json.loads((dst / GUARD).read_text(encoding="utf-8"))
    edit(guard)
    (dst / GUARD).write_text(json.dumps(guard), encoding="utf-8")
    return dst


def _fail_all(guard: dict[str, Any]) -> None:
    for name in guard["paths"]:
        if name != "fp32":
            guard["paths"][name].update(agreement=0.5, qualifies=False)


def test_auto_falls_back_to_fp32_when_the_guard_fails(trained: TrainResult, tmp_path: Path) -> None:
    folder = _copy_with_guard(trained.folder, tmp_path / "m", _fail_all)
    info = load_predictor(folder, numerics="auto").numerics_info
    assert info["used"] == "fp32" and info["qualified"] == []
    assert "no faster path passed the accuracy guard" in info["reason"]


def test_auto_is_fp32_without_a_guard_or_with_another_model_s_guard(trained: TrainResult, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    shutil.copytree(trained.folder, missing)
    (missing / GUARD).unlink()
    info = load_predictor(missing, numerics="auto").numerics_info
    assert info["used"] == "fp32" and "missing" in info["reason"]

    stale = _copy_with_guard(trained.folder, tmp_path / "stale", lambda g: g.update(model_version="older"))
    info = load_predictor(stale, numerics="auto").numerics_info
    assert info["used"] == "fp32" and "older" in info["reason"]


def test_a_malformed_guard_is_an_error_naming_file_and_field(trained: TrainResult, tmp_path: Path) -> None:
    folder = _copy_with_guard(trained.folder, tmp_path / "bad", lambda g: g["paths"]["int8"].update(qualifies="yes"))
    with pytest.raises(ValueError, match=r"precision_guard\.json: paths\.int8\.qualifies"):
        load_predictor(folder, numerics="auto")


def test_auto_picks_the_fastest_qualified_path(
    trained: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not {"bf16", "int8"} <= set(fast_paths()):
        pytest.skip("needs both of torch's fast paths on this CPU")

    def admit_all(guard: dict[str, Any]) -> None:
        for name in guard["paths"]:  # torch's paths; the OpenVINO ones have their own test
            guard["paths"][name]["qualifies"] = name in ("bf16", "int8")

    folder = _copy_with_guard(trained.folder, tmp_path / "m", admit_all)
    speeds = {torch.float32: 100.0, torch.bfloat16: 150.0}
    probed: list[int] = []

    def fake_forward(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> float:
        probed.append(sum(type(m).__name__ == "BertLayer" for m in model.modules()))
        quantized = any("quantized" in type(m).__module__ for m in model.modules())
        return 1 / (300.0 if quantized else speeds[next(model.parameters()).dtype])

    monkeypatch.setattr(numerics_probe, "forward_seconds", fake_forward)
    info = load_predictor(folder, numerics="auto").numerics_info
    assert info["used"] == "int8" and info["probe_speedup"] == {"fp32": 1.0, "bf16": 1.5, "int8": 3.0}
    assert set(probed) == {1}, "the probe times one-layer copies, not the loaded model"

    # Not worth it: a qualified path that is barely faster than fp32 is not chosen.
    monkeypatch.setattr(
        numerics_probe, "forward_seconds", lambda model, *_: 1 / (104.0 if model.dtype != torch.float32 else 100.0)
    )
    info = load_predictor(folder, numerics="auto").numerics_info
    assert info["used"] == "fp32" and "faster than fp32" in info["reason"]


# --- the product writes the guard: `policytag guard` ---------------------------------------------


def test_policytag_guard_measures_and_stores_the_guard(
    trained: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from policytag.cli import main

    folder = shutil.copytree(trained.folder, tmp_path / "m")
    (folder / GUARD).unlink()
    data = tmp_path / "few.jsonl"
    data.write_text("".join(line + "\n" for line in GOLD.read_text(encoding="utf-8").splitlines()[:40]))
    assert main(["guard", "--model", str(folder), "--data", str(data), "--numerics", "fp32", "int8"]) == 0
    stored = read_guard(folder)
    assert stored is not None and set(stored["paths"]) == {"fp32", "int8"}
    assert stored["data"] == {**stored["data"], "path": str(data), "n_sentences": 40}
    assert stored["model_version"] == json.loads((folder / "policytag.json").read_text())["version"]
    out = capsys.readouterr().out
    assert "qualifies for auto" in out and f"wrote {folder / GUARD}" in out


def test_policytag_guard_refuses_a_tfidf_model(tfidf_model: TrainResult, capsys: pytest.CaptureFixture[str]) -> None:
    from policytag.cli import main

    assert main(["guard", "--model", str(tfidf_model.folder)]) == 2
    assert "not a BERT model" in capsys.readouterr().err
    assert read_guard(tfidf_model.folder) is None


# --- the old names, accepted with a warning for one release ---------------------------------------


def test_the_old_precision_flag_still_sets_the_numerics(
    tfidf_model: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from policytag.cli import build_parser, main

    parser = build_parser()
    with pytest.warns(FutureWarning, match="--precision is deprecated.*--numerics"):
        args = parser.parse_args(["predict", "--model", "m", "x.jsonl", "--precision", "int8"])
    assert args.numerics == "int8"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--help"])
    help_text = capsys.readouterr().out
    assert "--numerics" in help_text and "--precision" not in help_text  # the old name is hidden
    with pytest.warns(FutureWarning, match="--precision is deprecated"):
        assert parser.parse_args(["serve", "--precision", "bf16"]).numerics == "bf16"
    sentences = tmp_path / "s.jsonl"
    sentences.write_text('{"text": "深入开展法律援助工作。"}\n', encoding="utf-8")
    with pytest.warns(FutureWarning):
        assert main(["predict", "--model", str(tfidf_model.folder), str(sentences), "--precision", "auto"]) == 0


def test_the_old_training_precision_field_is_read_as_mixed_precision(tmp_path: Path) -> None:
    from policytag.cli import build_parser
    from policytag.training.config import TrainConfig, config_from_args, load_config

    old = tmp_path / "old.yaml"
    old.write_text("kind: tfidf\nprecision: fp32\n", encoding="utf-8")
    with pytest.warns(FutureWarning, match="field 'precision' is deprecated.*'mixed_precision'"):
        assert load_config(TrainConfig, old).mixed_precision == "fp32"
    both = tmp_path / "both.yaml"
    both.write_text("precision: fp32\nmixed_precision: bf16\n", encoding="utf-8")
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="not also the deprecated 'precision'"):
        load_config(TrainConfig, both)
    new = tmp_path / "new.yaml"
    new.write_text("kind: tfidf\n", encoding="utf-8")
    with pytest.warns(FutureWarning, match="--precision is deprecated.*--mixed-precision"):
        args = build_parser().parse_args(["train", "--config", str(new), "--precision", "bf16"])
    assert config_from_args(TrainConfig, args).mixed_precision == "bf16"
