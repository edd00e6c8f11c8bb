from __future__ import annotations

import json
from pathlib import Path

import pytest

from policytag.core.jsonl import read_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.corpus import labellable
from policytag.labels.dataset import read_labelled
from policytag.labels.gold import build_gold, read_passes
from policytag.labels.manifest import read_manifest


def test_gold_labels_every_labellable_sentence_of_the_corpus(root: Path, taxonomy: Taxonomy) -> None:
    sentences = read_jsonl(root / "labels" / "sentences.jsonl")
    gold = read_labelled(root / "labels" / "gold.jsonl", taxonomy, require_doc=True)
    wanted = labellable(sentences)
    assert [g["id"] for g in gold] == [s["id"] for s in wanted]
    assert [g["text"] for g in gold] == [s["text"] for s in wanted]
    assert len(wanted) < len(sentences)  # repeats and cut-off fragments are left out
    copies = {s["id"]: s.get("copies", 0) for s in wanted}
    for g in gold:
        assert g["source"] == "manual" and g["annotator"]
        assert g["locality"] and g["province"]  # cross-validation groups by locality
        assert g.get("copies", 0) == copies[g["id"]]


def test_gold_is_what_the_passes_build(root: Path, taxonomy: Taxonomy) -> None:
    sentences = read_jsonl(root / "labels" / "sentences.jsonl")
    documents = {r.doc: r for r in read_manifest(root / "seeds" / "manifest.jsonl")}
    built = build_gold(sentences, read_passes(root / "labels" / "passes", taxonomy), documents=documents)
    assert built == read_jsonl(root / "labels" / "gold.jsonl")
    hard = [g for g in built if g.get("hard")]
    assert hard and all(g["annotator"] == "adjudicator" for g in hard)


def _passes(tmp_path: Path, a: list, b: list, adj: list) -> Path:
    for name, rows in (("pass_a", a), ("pass_b", b), ("adjudication", adj)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return tmp_path


def test_unadjudicated_disagreement_is_refused(tmp_path: Path, taxonomy: Taxonomy) -> None:
    sents = [{"id": "d:1", "doc": "d", "text": "甲"}, {"id": "d:2", "doc": "d", "text": "乙"}]
    a = [{"id": "d:1", "labels": ["mediation"]}, {"id": "d:2", "labels": ["other"]}]
    b = [{"id": "d:1", "labels": ["legal_aid"]}, {"id": "d:2", "labels": ["other"]}]
    with pytest.raises(ValueError, match="d:1: passes disagree"):
        build_gold(sents, read_passes(_passes(tmp_path, a, b, []), taxonomy))
    adj = [{"id": "d:1", "labels": ["mediation", "legal_aid"]}]
    gold = build_gold(sents, read_passes(_passes(tmp_path, a, b, adj), taxonomy))
    assert gold[0]["labels"] == ["mediation", "legal_aid"] and gold[0]["hard"] is True
    assert "hard" not in gold[1]
    # A review may correct an agreed label: it takes effect, but the sentence is not a disagreement.
    review = [*adj, {"id": "d:2", "labels": ["mediation"], "reason": "review"}]
    gold = build_gold(sents, read_passes(_passes(tmp_path, a, b, review), taxonomy))
    assert gold[1]["labels"] == ["mediation"] and gold[1]["annotator"] == "adjudicator" and "hard" not in gold[1]
    with pytest.raises(ValueError, match="d:3 is missing from pass_a"):
        build_gold(
            [*sents, {"id": "d:3", "doc": "d", "text": "丙"}], read_passes(_passes(tmp_path, a, b, adj), taxonomy)
        )
