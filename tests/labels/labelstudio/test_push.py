"""Pushing without a server: confidence order, push planning, model version, reading sentences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from policytag.cli import main
from policytag.core.jsonl import DataError
from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.labels.labelstudio.client import Client
from policytag.labels.labelstudio.push import (
    Scored,
    confidence,
    errors_path,
    model_version,
    plan_push,
    push,
    read_errors,
    read_sentences,
    select,
    task_data,
)
from policytag.training.predictor import Prediction


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


# --- the errors queue (``--queue errors``): a model folder's errors.jsonl, highest loss first ---------------

# errors.jsonl as training writes it (training/error_analysis.py: error_rows), shuffled: the queue sorts by loss.
_ERRORS: list[dict[str, Any]] = [
    {"id": "d:2", "doc": "d", "text": "乙", "labels": ["mediation"], "predicted": ["other"], "loss": 1.5},
    {"id": "e:2", "doc": "e", "text": "推进社区矫", "labels": ["other"], "predicted": ["legal_aid"], "loss": 9.0},
    {"id": "x:9", "doc": "x", "text": "不在文件中", "labels": ["other"], "predicted": ["legal_aid"], "loss": 8.0},
    {"id": "d:1", "doc": "d", "text": "甲。", "labels": ["legal_aid"], "predicted": ["other"], "loss": 4.25},
    {"id": None, "doc": "d", "text": "无编号", "labels": ["other"], "predicted": ["legal_aid"], "loss": 7.0},
    {"id": "d:3", "doc": "d", "text": "丙", "labels": ["other"], "predicted": [], "loss": 5.0},
]
_SENTENCES: list[dict[str, Any]] = [
    {"id": "d:1", "text": "甲。", "doc": "d", "index": 0, "copies": 1},
    {"id": "d:2", "text": "乙", "doc": "d", "index": 1},
    {"id": "d:3", "text": "丙", "doc": "d", "index": 2},
    {"id": "e:2", "text": "推进社区矫", "doc": "e", "index": 1, "fragment": True},
]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


class _NoProjects:
    """A client of a server without projects: ``push`` with ``dry_run`` then plans without any other call."""

    def __init__(self) -> None:
        self.sdk = SimpleNamespace(projects=SimpleNamespace(list=lambda title: []))

    def iterate(self, what: str, pager: Any) -> list[Any]:
        return list(pager())


@dataclass
class _Model:
    """A pre-annotator answering ``legal_aid`` for every sentence, recording what it was asked."""

    taxonomy: Taxonomy
    manifest: dict[str, Any] = field(default_factory=lambda: {"name": "m", "data_fingerprint": "sha256:abcdef"})
    asked: list[str] = field(default_factory=list)

    @property
    def thresholds(self) -> list[float]:
        return [0.5] * len(self.taxonomy)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.asked += texts
        scores = {i: (0.9 if i == "legal_aid" else 0.1) for i in self.taxonomy.ids}
        return [Prediction(["legal_aid"], scores) for _ in texts]


def test_read_errors_orders_by_loss_and_names_bad_rows(tmp_path: Path) -> None:
    rows = read_errors(_write_jsonl(tmp_path / "errors.jsonl", _ERRORS))
    assert [r["loss"] for r in rows] == [9.0, 8.0, 7.0, 5.0, 4.25, 1.5]
    bad = _write_jsonl(tmp_path / "bad.jsonl", [_ERRORS[0], {**_ERRORS[1], "loss": "high"}])
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'loss'"):
        read_errors(bad)
    bad = _write_jsonl(tmp_path / "bad.jsonl", [{**_ERRORS[0], "predicted": "other"}])
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'predicted'"):
        read_errors(bad)


def test_errors_queue_follows_the_loss_and_only_labellable_sentences_of_the_file(tmp_path: Path) -> None:
    sentences = read_sentences(_write_jsonl(tmp_path / "s.jsonl", _SENTENCES))
    errors = read_errors(_write_jsonl(tmp_path / "errors.jsonl", _ERRORS))
    # d:1, d:2 and d:3 are labelled (gold): the errors queue sends them anyway, as a second look
    chosen = select(sentences, "errors", labelled={"d:1", "d:2", "d:3"}, errors=errors)
    assert [s["id"] for s in chosen] == ["d:3", "d:1", "d:2"]  # e:2 is a fragment, x:9 not in the file
    assert [s["id"] for s in select(sentences, "errors", labelled=set(), errors=errors, limit=2)] == ["d:3", "d:1"]
    with pytest.raises(ValueError, match="--queue errors needs"):
        select(sentences, "errors", labelled=set())


def test_push_errors_queue_with_pre_annotations(tmp_path: Path) -> None:
    taxonomy = load_taxonomy()
    sentences = read_sentences(_write_jsonl(tmp_path / "s.jsonl", _SENTENCES))
    errors = read_errors(_write_jsonl(tmp_path / "errors.jsonl", _ERRORS))
    model = _Model(taxonomy)
    result = push(
        cast(Client, _NoProjects()),
        "p",
        sentences,
        taxonomy,
        predictor=model,
        strategy="errors",
        errors=errors,
        labelled={"d:1", "d:2", "d:3"},
        limit=2,
        dry_run=True,
    )
    assert [t["data"]["sentence_id"] for t in result.plan.create] == ["d:3", "d:1"]
    assert model.asked == ["丙", "甲。"]  # only what is sent is scored
    prediction = result.plan.create[0]["predictions"][0]
    assert prediction["model_version"] == "m-abcdef" == result.model_version
    assert prediction["result"][0]["value"]["choices"] == ["legal_aid"]


def test_errors_queue_without_errors_jsonl_says_what_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FileNotFoundError, match=r"errors.jsonl.*thresholds: oof"):
        errors_path(tmp_path)
    sentences = _write_jsonl(tmp_path / "s.jsonl", _SENTENCES)
    argv = ["labels", "push", "--project", "p", "--queue", "errors", "--sentences", str(sentences)]
    assert main([*argv, "--model", str(tmp_path), "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'errors.jsonl'}" in err and "thresholds: oof" in err
