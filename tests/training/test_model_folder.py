"""The model folder's contract: the manifest is checked (format, kind) with errors that name the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policytag.training.model_folder import CARD, FORMAT, MANIFEST, read_manifest
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult


def _copy_with_manifest(src: Path, dst: Path, **changes: object) -> Path:
    shutil.copytree(src, dst)
    manifest = json.loads((dst / MANIFEST).read_text(encoding="utf-8"))
    (dst / MANIFEST).write_text(json.dumps(manifest | changes), encoding="utf-8")
    return dst


def test_the_manifest_names_its_kind_and_format(tfidf_model: TrainResult) -> None:
    manifest = read_manifest(tfidf_model.folder)
    assert manifest["kind"] == "tfidf" and manifest["format"] == FORMAT
    assert "policytag tfidf model" in (tfidf_model.folder / CARD).read_text(encoding="utf-8")


def test_a_newer_format_is_refused_by_name(tfidf_model: TrainResult, tmp_path: Path) -> None:
    folder = _copy_with_manifest(tfidf_model.folder, tmp_path / "m", format=FORMAT + 1)
    with pytest.raises(ValueError, match=f"{MANIFEST}: format {FORMAT + 1} .* a newer policytag wrote it"):
        load_predictor(folder)


def test_an_unknown_kind_is_refused_by_name(tfidf_model: TrainResult, tmp_path: Path) -> None:
    folder = _copy_with_manifest(tfidf_model.folder, tmp_path / "m", kind="svm")
    kinds = "'bert', 'distilled', 'ensemble', 'tfidf'"
    with pytest.raises(ValueError, match=f"{MANIFEST}: 'kind' must be one of {kinds}, got 'svm'"):
        read_manifest(folder)


def test_missing_and_broken_manifests_say_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        read_manifest(tmp_path / "none")
    with pytest.raises(FileNotFoundError, match=f"not a policytag model folder \\({MANIFEST} missing\\)"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        read_manifest(tmp_path)


def test_tfidf_takes_fp32_numerics_only(tfidf_model: TrainResult) -> None:
    assert load_predictor(tfidf_model.folder, numerics="auto").numerics_info["used"] == "fp32"
    with pytest.raises(ValueError, match="TF-IDF"):
        load_predictor(tfidf_model.folder, numerics="int8")
    with pytest.raises(TypeError, match="unexpected options \\['colour'\\]"):
        load_predictor(tfidf_model.folder, colour="red")
