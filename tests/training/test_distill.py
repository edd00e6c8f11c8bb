"""The distilled kind: pseudo-labels from a teacher of the training side only; a student that loads like BERT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policytag.core.jsonl import write_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split, read_labelled, to_dataset
from policytag.labels.dedup import sentence_key
from policytag.training.config import TrainConfig
from policytag.training.distill import PSEUDO_DOC, pseudo_label
from policytag.training.kinds import get_kind
from policytag.training.model_folder import MANIFEST
from policytag.training.predictor import load_predictor
from policytag.training.train import train
from tests.support.paths import ROOT
from tests.support.training import tiny_config

GOLD = ROOT / "labels" / "gold.jsonl"


def _split_by_locality(taxonomy: Taxonomy) -> tuple[Split, list[dict[str, object]]]:
    """Training records of two localities, and every record of a third (the 'test fold')."""
    records = read_labelled(GOLD, taxonomy)
    localities = sorted({str(r["locality"]) for r in records if r.get("locality")})
    test_loc = localities[0]
    test = [r for r in records if r.get("locality") == test_loc]
    train_recs = [r for r in records if r.get("locality") in localities[1:3]]
    return Split(train=train_recs, validation=[], test=[]), test


def _corpus(tmp: Path, test: list[dict[str, object]], train: list[dict[str, object]]) -> Path:
    """An unlabelled corpus (sentence JSONL) holding test-fold sentences, training sentences and new ones."""
    rows = [{"doc": r["doc"], "locality": r["locality"], "text": r["text"]} for r in test[:30]]
    rows += [{"doc": r["doc"], "locality": r["locality"], "text": r["text"]} for r in train[:10]]
    new = [f"某县司法局组织开展第{i}次人民调解员培训。" for i in range(25)]
    rows += [{"doc": f"new-{i}", "locality": "某省某县", "text": t} for i, t in enumerate(new)]
    path = tmp / "unlabelled.jsonl"
    write_jsonl(path, rows)
    return path


def test_pseudo_labels_leave_out_the_test_fold_and_known_sentences(tmp_path: Path, taxonomy: Taxonomy) -> None:
    split, test = _split_by_locality(taxonomy)
    corpus = _corpus(tmp_path, test, split.train)
    cfg = TrainConfig(data=str(GOLD), output_dir=str(tmp_path / "m"), kind="distilled", distill_corpus=[str(corpus)])
    teacher_cfg = TrainConfig(data=str(GOLD), output_dir=str(tmp_path / "t"), kind="tfidf")
    teacher = get_kind("tfidf").fit(teacher_cfg, Split(train=split.train, validation=split.train[:50], test=[]),
                                    taxonomy, progress=False)  # fmt: skip
    pseudo = pseudo_label(cfg, split, taxonomy, teacher.predictor)
    keys = {sentence_key(r["text"]) for r in pseudo.records}
    assert not keys & {sentence_key(str(r["text"])) for r in test}, "a test-fold sentence was pseudo-labelled"
    assert not keys & {sentence_key(str(r["text"])) for r in split.train}, "a labelled sentence was pseudo-labelled"
    assert len(pseudo.records) == 25 and pseudo.stats["excluded_localities"] >= 1
    row = pseudo.records[0]
    assert row["doc"] == PSEUDO_DOC and len(row["targets"]) == len(taxonomy)
    assert min(row["targets"]) >= 0.0 and max(row["targets"]) <= 1.0
    # the student's dataset learns the soft targets, not a multi-hot of the hard labels
    ds = to_dataset(pseudo.records[:3], taxonomy)
    assert np.allclose(np.array(ds["labels"]), np.array([r["targets"] for r in pseudo.records[:3]]), atol=1e-6)


def test_distilled_folder_loads_and_predicts_like_bert(tmp_path: Path, taxonomy: Taxonomy) -> None:
    split, test = _split_by_locality(taxonomy)
    corpus = _corpus(tmp_path, test, split.train)
    cfg = tiny_config(tmp_path, kind="distilled", distill_corpus=[str(corpus)], distill_max_sentences=100, epochs=1.0)
    result = train(cfg, progress=False)
    folder = result.folder
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["kind"] == "distilled"
    distillation = manifest["base_model"]["distillation"]
    assert distillation["teacher"] == "tfidf" and distillation["soft"] is True and distillation["sentences"] > 0
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.joblib"))
    predictor = load_predictor(folder)
    preds = predictor.predict(["依法开展行政执法监督。", "组织人民调解员培训。"])
    assert len(preds) == 2 and all(set(p.scores) == set(taxonomy.ids) for p in preds)
    assert "Distilled: trained on" in (folder / "README.md").read_text(encoding="utf-8")


def test_a_distilled_model_cannot_teach(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distill_teacher"):
        TrainConfig(data=str(GOLD), output_dir=str(tmp_path), kind="distilled", distill_teacher="ensemble")
