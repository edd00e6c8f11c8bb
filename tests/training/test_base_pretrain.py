from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from policytag.training.base_model import build_vocab, resolve_base, scratch_tokenizer
from policytag.training.config import PretrainConfig
from policytag.training.pretrain import pretrain
from policytag.training.train import train
from tests.support.paths import ROOT
from tests.support.training import tiny_config


def test_char_vocab_tokenizes_like_bert_base_chinese() -> None:
    tok = scratch_tokenizer(build_vocab(["依法行政。", "ABC"]))
    assert tok.tokenize("依法行政2023年") == ["依", "法", "行", "政", "2", "##0", "##2", "##3", "[UNK]"]
    assert tok.tokenize("Law") == ["l", "##a", "##w"]


def test_auto_falls_back_to_scratch_loudly_offline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with caplog.at_level(logging.WARNING):
        base = resolve_base(
            "auto", candidates=["policytag-test/no-such-model"], scratch_size="scratch-tiny", train_texts=["法治。"]
        )
    assert base.is_scratch and base.name == "scratch-tiny" and base.path is None
    assert base.tried == ("policytag-test/no-such-model",)
    assert "NO PRETRAINED BASE MODEL" in caplog.text and "FROM SCRATCH" in caplog.text


def test_named_base_that_cannot_be_had_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="neither a folder nor in the local Hugging Face cache"):
        resolve_base("policytag-test/no-such-model", candidates=[], scratch_size="scratch-tiny", train_texts=["x"])


def test_pretrain_output_is_accepted_as_a_base(tmp_path: Path) -> None:
    base_dir = tmp_path / "base"
    originals = tmp_path / "originals"  # the five original seeds: 449 sentences, seconds to pretrain on
    originals.mkdir()
    for p in sorted((ROOT / "seeds").glob("00[0-4]_*.txt")):
        shutil.copy(p, originals / p.name)
    pretrain(
        PretrainConfig(corpus=[str(originals)], output_dir=str(base_dir), size="scratch-tiny", epochs=1.0,
                       max_length=48, exclude_docs=["004_48d035d7b30d8e3c"]),
        progress=False,
    )  # fmt: skip
    info = json.loads((base_dir / "pretraining.json").read_text())
    assert info["excluded_docs"] == ["004_48d035d7b30d8e3c"] and info["n_sentences"] == 449 - 87
    assert (base_dir / "model.safetensors").is_file()
    result = train(tiny_config(tmp_path, base_model=str(base_dir), epochs=1.0, max_length=48), progress=False)
    manifest = json.loads((result.folder / "policytag.json").read_text())
    assert manifest["base_model"]["kind"] == "local-mlm"
    assert "pretrained from scratch with masked-language modelling" in manifest["base_model"]["description"]
    assert "**not** a pretrained" in (result.folder / "README.md").read_text()
