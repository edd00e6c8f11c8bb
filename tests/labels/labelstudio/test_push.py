"""Pushing without a server: confidence order, push planning, model version, reading sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policytag.core.jsonl import DataError
from policytag.labels.labelstudio.push import (
    Scored,
    confidence,
    model_version,
    plan_push,
    read_sentences,
    select,
    task_data,
)


def test_confidence_and_uncertainty_order() -> None:
    assert confidence([0.5, 0.0], [0.5, 0.5]) == 0.0
    assert confidence([1.0, 0.0], [0.5, 0.5]) == 1.0
    assert confidence([0.75, 0.0], [0.5, 0.5]) == pytest.approx(0.5)
    sentences = [{"id": s, "text": s, "doc": "d", "index": i} for i, s in enumerate("abcd")]
    scored = {s: Scored(["other"], c, {}) for s, c in zip("abcd", [0.9, 0.1, 0.5, 0.1], strict=True)}
    order = select(sentences, "uncertainty", labelled={"c"}, scored=scored, limit=2)
    assert [s["id"] for s in order] == ["b", "d"]
    assert [s["id"] for s in select(sentences, "unlabelled", labelled={"a"})] == ["b", "c", "d"]
    assert [s["id"] for s in select(sentences, "all", labelled={"a"}, limit=3)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="needs --model"):
        select(sentences, "uncertainty", labelled=set())


def test_plan_push_creates_updates_and_adds_predictions() -> None:
    sentences = [{"id": s, "text": s, "doc": "d", "index": i} for i, s in enumerate("abc")]
    pred = {"result": [], "score": 0.3, "model_version": "m-2"}
    scored = {s: Scored(["other"], 0.3, pred) for s in "abc"}
    tasks = [
        {"id": 10, "data": task_data(sentences[0]), "predictions": [{"model_version": "m-2"}]},
        {"id": 11, "data": {**task_data(sentences[1]), "index": 7}, "predictions": [{"model_version": "m-1"}]},
        {"id": 12, "data": task_data(sentences[1]), "predictions": []},
    ]
    plan = plan_push(None, "p", sentences, tasks, scored)
    assert [t["data"]["sentence_id"] for t in plan.create] == ["c"] and plan.create[0]["predictions"] == [pred]
    assert plan.update == [(11, task_data(sentences[1]))]
    assert plan.add_predictions == [{"task": 11, **pred}]
    assert plan.unchanged == 1 and plan.duplicates == {"b": [11, 12]}


def test_model_version() -> None:
    assert model_version({"name": "bert", "data_fingerprint": "0123456789abcdef"}) == "bert-0123456789ab"
    assert model_version({"name": "bert"}) == "bert"


def test_read_sentences_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"id": "a", "text": "x", "doc": "d", "index": 0}\n{"id": "b", "text": "", "doc": "d", "index": 1}\n'
    )
    with pytest.raises(DataError, match=r"s.jsonl:2: field 'text'"):
        read_sentences(path)
    path.write_text(
        '{"id": "a", "text": "x", "doc": "d", "index": 0}\n{"id": "a", "text": "y", "doc": "d", "index": 1}\n'
    )
    with pytest.raises(DataError, match=r"s.jsonl:2: field 'id': sentence a already on line 1"):
        read_sentences(path)
    path.write_text('{"id": "a", "text": "x", "doc": "d", "index": "0"}\n')
    with pytest.raises(DataError, match=r"s.jsonl:1: field 'index'"):
        read_sentences(path)


def test_read_sentences_leaves_out_what_is_never_labelled(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rows = [
        {"id": "d:1", "text": "甲。", "doc": "d", "index": 0, "copies": 1},
        {"id": "e:1", "text": "甲。", "doc": "e", "index": 0, "duplicate_of": "d:1"},
        {"id": "e:2", "text": "推进社区矫", "doc": "e", "index": 1, "fragment": True},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert [r["id"] for r in read_sentences(path)] == ["d:1"]
