from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from policytag.core.paths import data_path
from policytag.core.splitter import split_sentences
from policytag.labels.unlabelled import read_unlabelled_rows, write_unlabelled
from policytag.training.base_model import build_vocab, resolve_base, scratch_tokenizer
from policytag.training.config import PretrainConfig
from policytag.training.kinds import get_kind
from policytag.training.pretrain import pretrain
from policytag.training.pretrain_card import LOSS_PNG
from policytag.training.pretrain_corpus import read_pretrain_corpus
from policytag.training.train import train
from policytag.training.vocab import domain_vocab, standard_characters
from tests.support.paths import ROOT
from tests.support.training import tiny_config


def test_char_vocab_tokenizes_like_bert_base_chinese() -> None:
    tok = scratch_tokenizer(build_vocab(["依法行政。", "ABC"]))
    assert tok.tokenize("依法行政2023年") == ["依", "法", "行", "政", "2", "##0", "##2", "##3", "[UNK]"]
    assert tok.tokenize("Law") == ["l", "##a", "##w"]


def test_auto_falls_back_to_scratch_loudly_offline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with caplog.at_level(logging.WARNING):
        base = resolve_base(
            "auto",
            candidates=["policytag-test/no-such-model"],
            scratch_size="scratch-tiny",
            train_texts=["法治。"],
            local_base=tmp_path / "no-base",  # whatever models/base the checkout holds
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
    c = info["corpus"]  # duplicates are kept once, and sentences shared with the excluded document dropped
    assert (
        info["excluded_docs"] == ["004_48d035d7b30d8e3c"] and c["sentences_split"] == 449 and c["pages_excluded"] == 1
    )
    assert info["n_sentences"] == 449 - 87 - c["sentences_duplicate"] - c["sentences_shared_with_excluded"] == 361
    assert (base_dir / "model.safetensors").is_file()
    result = train(tiny_config(tmp_path, base_model=str(base_dir), epochs=1.0, max_length=48), progress=False)
    manifest = json.loads((result.folder / "policytag.json").read_text())
    assert manifest["base_model"]["kind"] == "local-mlm"
    assert "pretrained from scratch with masked-language modelling" in manifest["base_model"]["description"]
    assert "**not** a pretrained" in (result.folder / "README.md").read_text()


# --- issue 16: a vocabulary of real reports, the domain base on the unlabelled harvest, `--base-model auto` ---

TRICKY = "二〇二三年①②项ⅰⅱ，Café x-y 2024年《中华人民共和国法律援助法》"


def _harvest_sample(tmp_path: Path, pages: int = 25) -> tuple[Path, list[str]]:
    """The first ``pages`` pages of the harvest plus one page of awkward characters, as a Parquet corpus."""
    rows = read_unlabelled_rows()[:pages]
    rows.append(dict(rows[0]) | {"url": "https://example.invalid/x", "seed_file": "", "text": TRICKY, "chars": 40})
    path = tmp_path / "pages.parquet"
    write_unlabelled(path, rows)
    return path, [r["text"] for r in rows]


def _fake_empty_hub_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network, and a Hugging Face cache that holds nothing: `auto` can find no pretrained model."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))


def test_vocabulary_covers_every_character_of_an_unlabelled_sample(tmp_path: Path) -> None:
    path, texts = _harvest_sample(tmp_path)
    vocab, source = domain_vocab(["依法行政"], unlabelled=path, standard="none")
    tok = scratch_tokenizer(vocab)
    for text in texts:
        for sentence in split_sentences(text):
            assert "[UNK]" not in tok.tokenize(sentence.text), sentence.text
    assert source["size"] == len(vocab) and source["unlabelled_pages"] == len(texts)
    assert tok.tokenize("①②ⅱⅰ") == ["①", "##②", "##ⅱ", "##ⅰ"]  # any pairing of known characters
    with_standard, _ = domain_vocab([], unlabelled=path, standard="gb2312-1")
    assert set(standard_characters("gb2312-1")) <= set(with_standard) and len(with_standard) > len(vocab)


def test_scratch_vocabulary_covers_the_harvest_not_only_the_training_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    base = resolve_base("scratch-tiny", candidates=[], scratch_size="scratch-tiny", train_texts=["法治。"])
    harvest_chars = {ch for r in read_unlabelled_rows() for ch in r["text"] if "\u4e00" <= ch <= "\u9fff"}
    assert len(base.tokenizer) > len(harvest_chars) > 3000
    assert "every character of the" in base.description and "GB2312-1" in base.description


def test_pretrain_corpus_leaves_out_excluded_documents_and_their_sentences(tmp_path: Path) -> None:
    rows = read_unlabelled_rows()
    seed = next(r for r in rows if r["seed_file"] and r["url"])
    doc = Path(seed["seed_file"]).stem
    full = read_pretrain_corpus([str(data_path("unlabelled"))])
    for exclude in (doc, seed["url"]):  # by document or by URL
        cut = read_pretrain_corpus([str(data_path("unlabelled"))], exclude_docs=[exclude])
        assert cut.pages_excluded == 1 and cut.sentences < full.sentences
        kept = set(cut.texts)
        assert not any(s.text in kept for s in split_sentences(seed["text"]) if len(s.text) < 120)
    sample = read_pretrain_corpus([str(data_path("unlabelled"))], max_sentences=50, piece_chars=20)
    assert sample.sentences == 50 and all(len(t) <= 20 for t in sample.texts)
    assert sample.stats()["sentences_sampled_out"] == full.sentences - 50


def test_tiny_pretrain_on_the_harvest_is_the_base_auto_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A tiny slice of the harvest -> a loadable safetensors base with card and loss curve; auto picks it, says so."""
    from transformers import BertForMaskedLM

    work = tmp_path / "work"
    base_dir = work / "models" / "base"
    cfg = PretrainConfig(corpus=[str(data_path("unlabelled"))], output_dir=str(base_dir), size="scratch-tiny",
                         epochs=1.0, max_length=48, max_sentences=96, batch_size=32)  # fmt: skip
    pretrain(cfg, progress=False)
    assert sorted(p.name for p in (work / "models").iterdir()) == ["base"]  # written atomically: no leftovers
    assert BertForMaskedLM.from_pretrained(base_dir).config.num_hidden_layers == 2
    assert (base_dir / "model.safetensors").is_file() and not list(base_dir.glob("*.bin"))
    assert (base_dir / LOSS_PNG).read_bytes()[:4] == b"\x89PNG"
    info = json.loads((base_dir / "pretraining.json").read_text())
    assert info["n_sentences"] == 96 and info["mlm_loss_last"] > 0
    assert info["training"]["steps"] == -(-info["corpus"]["pieces"] // 32)  # long sentences cut in 46-char pieces
    assert info["vocabulary"]["unlabelled_pages"] == len(read_unlabelled_rows())
    card = (base_dir / "README.md").read_text()
    assert "**not** a pretrained Chinese BERT" in card and "final" in card and LOSS_PNG in card

    _fake_empty_hub_cache(monkeypatch, tmp_path)
    fake = ["policytag-test/no-such-model"]
    with caplog.at_level(logging.INFO):
        picked = resolve_base("auto", candidates=fake, scratch_size="scratch-tiny", train_texts=["x"],
                              local_base=base_dir)  # fmt: skip
    assert picked.kind == "local-mlm" and picked.path == str(base_dir) and picked.tried == tuple(fake)
    assert "chosen by --base-model auto" in picked.description and "base model: " in caplog.text
    (empty := tmp_path / "empty").mkdir()
    for missing in (tmp_path / "nothing-here", empty):  # absent, or not a complete base
        scratch = resolve_base("auto", candidates=fake, scratch_size="scratch-tiny", train_texts=["x"],
                               local_base=missing)  # fmt: skip
        assert scratch.is_scratch

    monkeypatch.chdir(work)  # `auto` looks for models/base under the working folder
    result = train(tiny_config(tmp_path, base_model="auto", base_candidates=fake, epochs=1.0, max_length=48,
                               limit=64), progress=False)  # fmt: skip
    manifest = json.loads((result.folder / "policytag.json").read_text())
    assert manifest["base_model"]["kind"] == "local-mlm"
    model_card = (result.folder / "README.md").read_text()
    assert (
        "Chosen by `--base-model auto`" in model_card and "local domain base made by `policytag pretrain`" in model_card
    )
    assert "**not** a pretrained Chinese BERT" in model_card


def test_card_says_auto_fell_back_to_scratch() -> None:
    lines = "\n".join(get_kind("bert").card_base_lines(
        {"kind": "scratch", "name": "scratch-mini", "description": "d", "tried": ["bert-base-chinese"]}
    ))  # fmt: skip
    assert "Chosen by `--base-model auto`" in lines and "there was no local domain base" in lines
    assert "**not** a pretrained Chinese BERT" in lines
    cached = get_kind("bert").card_base_lines(
        {"kind": "pretrained", "name": "bert-base-chinese", "description": "d", "tried": ["bert-base-chinese"]}
    )
    assert "not** a pretrained" not in "\n".join(cached) and "first that could be loaded" in cached[0]


def test_exclude_labelled_leaves_out_every_labelled_document(tmp_path: Path) -> None:
    """The shipped base may not have read a labelled document: grouped CV on it would test on text it saw."""
    from policytag.training.pretrain import _labelled_docs

    rows = read_unlabelled_rows()
    seeds = [r for r in rows if r["seed_file"]][:2]
    labelled = tmp_path / "gold.jsonl"
    docs = [Path(r["seed_file"]).stem for r in seeds]
    labelled.write_text("".join(json.dumps({"doc": d, "text": "x", "labels": ["other"]}) + "\n" for d in docs))
    cfg = PretrainConfig(corpus=[str(data_path("unlabelled"))], labelled=str(labelled), exclude_labelled=True)
    assert _labelled_docs(cfg) == sorted(docs)
    assert _labelled_docs(PretrainConfig(labelled=str(labelled))) == []
    cut = read_pretrain_corpus(cfg.corpus, exclude_docs=_labelled_docs(cfg))
    assert cut.pages_excluded == 2
    kept = set(cut.texts)
    assert not any(s.text in kept for r in seeds for s in split_sentences(r["text"]) if len(s.text) < 120)
