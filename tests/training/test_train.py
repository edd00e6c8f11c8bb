from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from policytag.cli import main
from policytag.core.jsonl import read_jsonl
from policytag.training.config import TrainConfig
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult, train
from tests.support.paths import ROOT
from tests.support.training import tiny_config

REQUIRED = {
    "model.safetensors",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "thresholds.json",
    "taxonomy.json",
    "metrics.json",
    "training_config.json",
    "data.json",
    "policytag.json",
    "README.md",
    "training_log.json",
}


def test_folder_is_complete(tiny_model: TrainResult) -> None:
    folder = tiny_model.folder
    assert {p.name for p in folder.iterdir()} >= REQUIRED
    assert {p.name for p in (folder / "plots").iterdir()} >= {"f1_per_label.png", "label_cooccurrence.png"}
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pkl"))
    config = json.loads((folder / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert list(config["id2label"].values())[-1] == "other"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"macro_f1", "micro_f1", "per_label"} <= set(metrics["validation"])
    data = json.loads((folder / "data.json").read_text())
    assert len(data["fingerprint"]) == 64 and not set(data["train_docs"]) & set(data["validation_docs"])
    card = (folder / "README.md").read_text()
    assert "scratch-tiny BERT trained from scratch" in card and "**not** a pretrained" in card
    # No leftovers beside the folder: the temporary build folder was renamed, checkpoints removed.
    assert [p.name for p in folder.parent.iterdir()] == ["tiny"]


def test_thresholds_are_tuned_and_saved(tiny_model: TrainResult) -> None:
    data = json.loads((tiny_model.folder / "thresholds.json").read_text())
    predictor = load_predictor(tiny_model.folder)
    assert [data["thresholds"][i] for i in predictor.taxonomy.ids] == list(predictor.thresholds)
    assert "tuned" in data["how"].values()
    assert all(t >= data["floor"] for i, t in data["thresholds"].items() if data["how"][i] == "tuned")


def test_loss_falls_on_a_small_slice(tmp_path: Path) -> None:
    result = train(
        tiny_config(tmp_path, limit=64, epochs=8.0, batch_size=8, learning_rate=3e-3, early_stopping_patience=20),
        progress=False,
    )
    log = json.loads((result.folder / "training_log.json").read_text())
    losses = [h["loss"] for h in log if "loss" in h]
    assert len(losses) == 8 and losses[-1] < 0.85 * losses[0]
    assert sum(b < a for a, b in itertools.pairwise(losses)) >= 6  # falls epoch after epoch, not by luck


def test_folder_loads_without_the_kit(tiny_model: TrainResult) -> None:
    sentences = ["深入开展法律援助工作。", "首页"]
    code = (
        "import json, sys, torch\n"
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        f"folder = {str(tiny_model.folder)!r}\n"
        "model = AutoModelForSequenceClassification.from_pretrained(folder).eval()\n"
        "tok = AutoTokenizer.from_pretrained(folder)\n"
        f"enc = tok({sentences!r}, padding=True, return_tensors='pt')\n"
        "with torch.no_grad(): p = torch.sigmoid(model(**enc).logits)\n"
        "print(json.dumps({'probs': p.tolist(), 'labels': [model.config.id2label[i] for i in range(p.shape[1])]}))\n"
    )
    # A clean interpreter with the kit's folders off the path: only transformers is used.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, env=env, check=True)
    plain = json.loads(out.stdout)
    probs, _ = load_predictor(tiny_model.folder).predict_proba(sentences)
    assert plain["labels"][-1] == "other"
    np.testing.assert_allclose(np.array(plain["probs"]), probs, atol=1e-5)


def test_same_config_and_data_give_the_same_metrics(tmp_path: Path, tiny_model: TrainResult) -> None:
    again = train(tiny_config(tmp_path), progress=False)
    assert again.metrics["validation"]["per_label"] == tiny_model.metrics["validation"]["per_label"]
    np.testing.assert_array_equal(load_predictor(again.folder).thresholds, load_predictor(tiny_model.folder).thresholds)


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    first = tiny_config(tmp_path, limit=64, epochs=1.0, keep_checkpoints=True, learning_rate=3e-3)
    train(first, progress=False)
    assert list(first.checkpoints.glob("checkpoint-*"))
    log1 = json.loads((Path(first.output_dir) / "training_log.json").read_text())
    # A different learning rate would change epoch 1's loss if training restarted instead of resuming.
    second = tiny_config(tmp_path, limit=64, epochs=2.0, resume=True, learning_rate=1e-5)
    train(second, progress=False)
    log2 = json.loads((Path(second.output_dir) / "training_log.json").read_text())
    loss1 = [h["loss"] for h in log1 if "loss" in h]
    loss2 = [h["loss"] for h in log2 if "loss" in h]
    assert len(loss2) == 2 and loss2[0] == loss1[0]
    assert max(h["epoch"] for h in log2) == 2.0


def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no checkpoint"):
        train(tiny_config(tmp_path, resume=True), progress=False)


def test_bad_data_line_fails_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    rows = read_jsonl(ROOT / "labels" / "gold.jsonl")[:3]
    rows[2]["labels"] = ["not_a_label"]
    bad.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert main(["train", "--data", str(bad), "--kind", "tfidf", "--output-dir", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: field 'labels': unknown label id 'not_a_label'" in err
    assert not (tmp_path / "m").exists()


def test_crash_leaves_the_previous_folder_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = TrainConfig(data=str(ROOT / "labels" / "gold.jsonl"), output_dir=str(tmp_path / "m"), kind="tfidf")
    train(cfg)
    before = (tmp_path / "m" / "policytag.json").read_text()

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("policytag.training.plots.plot_f1", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        train(cfg)
    assert (tmp_path / "m" / "policytag.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_config_file_and_flags(tmp_path: Path) -> None:
    from policytag.training.config import load_config

    p = tmp_path / "c.yaml"
    p.write_text("kind: tfidf\nepochs: 3\n", encoding="utf-8")
    cfg = load_config(TrainConfig, p, epochs=5.0)
    assert cfg.kind == "tfidf" and cfg.epochs == 5.0
    p.write_text("kind: tfidf\nepochz: 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown config fields \\['epochz'\\]"):
        load_config(TrainConfig, p)
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        TrainConfig(batch_size=0)
