"""Pulling annotations without a server: choices, annotation records from a recorded export, the log, consolidation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policytag.core.jsonl import DataError
from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.pull import annotation_records, append_log, consolidate, parse_choices, read_log
from tests.support.labelstudio import annotation_record

# One task of a real full-JSON export (Label Studio 1.23.2, completed_by serialised as a user object).
RECORDED_TASK: dict[str, Any] = {
    "id": 1,
    "annotations": [
        {
            "id": 1,
            "completed_by": {"id": 1, "email": "admin@policytag.local", "first_name": "", "last_name": ""},
            "result": [
                {"from_name": "labels", "to_name": "text", "type": "choices", "value": {"choices": ["legal_aid"]}}
            ],
            "was_cancelled": False,
            "ground_truth": False,
            "created_at": "2026-11-21T23:22:29.232994Z",
            "updated_at": "2026-11-21T23:22:29.898308Z",
            "lead_time": 3.2,
            "prediction": {"id": 1, "model_version": "m-abc", "score": 0.5},
            "task": 1,
            "project": 1,
        },
        {
            "id": 2,
            "completed_by": 2,
            "result": [],
            "was_cancelled": True,
            "created_at": "2026-11-21T23:22:29.534231Z",
            "updated_at": "2026-11-21T23:22:29.534278Z",
            "lead_time": None,
            "prediction": {"id": 1, "model_version": "m-abc"},
        },
    ],
    "predictions": [1],
    "data": {"text": "句子0", "sentence_id": "d:0", "doc": "d", "index": 0},
}


def test_parse_choices(taxonomy: Taxonomy) -> None:
    def res(*choices: str, from_name: str = "labels") -> list[dict[str, Any]]:
        return [{"from_name": from_name, "to_name": "text", "type": "choices", "value": {"choices": list(choices)}}]

    assert parse_choices(res("mediation", "enforcement"), taxonomy) == (["enforcement", "mediation"], None)
    assert parse_choices(res("法律援助"), taxonomy) == (["legal_aid"], None)
    labels, problem = parse_choices(res("enforcement", "bogus"), taxonomy)
    assert labels == ["enforcement", "bogus"] and problem is not None and "bogus" in problem
    labels, problem = parse_choices(res("other", "mediation"), taxonomy)
    assert labels == ["mediation", "other"] and problem is not None and "exclusive" in problem
    assert parse_choices([], taxonomy) == ([], "no choice selected")
    assert parse_choices(res("mediation", from_name="cats"), taxonomy)[1] is not None


def test_annotation_records_from_a_recorded_export(taxonomy: Taxonomy) -> None:
    records, problems = annotation_records([RECORDED_TASK], taxonomy, project="p", emails={2: "b@x"})
    assert problems == []
    first, skip = records
    assert first["labels"] == ["legal_aid"] and first["annotator"] == "admin@policytag.local"
    assert first["prediction_model_version"] == "m-abc" and first["lead_time"] == 3.2
    assert (first["sentence_id"], first["text"], first["annotation_id"], first["task_id"]) == ("d:0", "句子0", 1, 1)
    assert skip["was_cancelled"] is True and skip["labels"] == [] and skip["annotator"] == "b@x"


def test_annotation_records_report_unknown_choices(taxonomy: Taxonomy) -> None:
    task = json.loads(json.dumps(RECORDED_TASK))
    task["annotations"][0]["result"][0]["value"]["choices"] = ["不存在"]
    records, problems = annotation_records([task], taxonomy, project="p")
    (problem,) = problems
    assert (problem.task_id, problem.annotation_id, problem.annotator) == (1, 1, "admin@policytag.local")
    assert "不存在" in str(problem) and records[0]["problem"] == problem.message


def test_consolidation_rules(taxonomy: Taxonomy) -> None:
    log = [
        # majority of three
        annotation_record("a", "x", ["mediation"], 1, "t1"),
        annotation_record("a", "y", ["mediation"], 2, "t1"),
        annotation_record("a", "z", ["legal_aid"], 3, "t1"),
        # a three-way tie and a two-way tie
        annotation_record("b", "x", ["mediation"], 4, "t1"),
        annotation_record("b", "y", ["legal_aid"], 5, "t1"),
        annotation_record("b", "z", ["other"], 6, "t1"),
        annotation_record("c", "x", ["mediation"], 7, "t1"),
        annotation_record("c", "y", ["legal_aid"], 8, "t1"),
        # the latest version of an annotation counts; an annotator's latest annotation counts
        annotation_record("d", "x", ["mediation"], 9, "t1"),
        annotation_record("d", "x", ["enforcement"], 9, "t2"),
        annotation_record("e", "x", ["mediation"], 10, "t1"),
        annotation_record("e", "x", ["legislation"], 11, "t3"),
        # skipped and problem annotations do not count
        annotation_record("f", "x", ["mediation"], 12, "t1"),
        annotation_record("f", "y", [], 13, "t2", was_cancelled=True),
        annotation_record("g", "x", ["other", "mediation"], 14, "t1", problem="exclusive"),
        # an annotation later cancelled (its latest version) does not count
        annotation_record("h", "x", ["mediation"], 15, "t1"),
        annotation_record("h", "x", [], 15, "t2", was_cancelled=True),
    ]
    gold = [
        {"id": "a", "doc": "d", "text": "A", "labels": ["legal_aid"], "annotator": "m", "source": "manual"},
        {"id": "c", "doc": "d", "text": "C", "labels": ["other"], "annotator": "m", "source": "manual"},
        {"id": "g", "doc": "d", "text": "G", "labels": ["other"], "annotator": "m", "source": "manual"},
        {"id": "z", "doc": "d", "text": "Z", "labels": ["other"], "annotator": "m", "source": "manual"},
    ]
    result = consolidate(log, gold, taxonomy)
    by_id = {r["id"]: r for r in result.records}
    assert [r["id"] for r in result.records] == ["a", "c", "g", "z", "d", "e", "f"]
    assert by_id["a"]["labels"] == ["mediation"] and by_id["a"]["annotator"] == "x+y"
    assert by_id["a"]["source"] == "labelstudio" and by_id["a"]["gold_labels"] == ["legal_aid"]
    assert result.superseded == ["a"]
    assert [c["id"] for c in result.conflicts] == ["b", "c"]
    assert by_id["c"] == gold[1]  # a conflict does not supersede gold
    assert by_id["g"] == gold[2] and by_id["z"] == gold[3]
    assert by_id["d"]["labels"] == ["enforcement"]
    assert by_id["e"]["labels"] == ["legislation"]
    assert by_id["f"]["labels"] == ["mediation"] and by_id["f"]["annotator"] == "x"
    assert "h" not in by_id and "b" not in by_id
    assert by_id["d"]["text"] == "text of d" and by_id["d"]["doc"] == "d"


def test_append_log_is_append_only_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    first = [annotation_record("a", "x", ["mediation"], 1, "t1"), annotation_record("b", "x", ["mediation"], 2, "t1")]
    assert append_log(path, first, dry_run=True) == first and not path.exists()
    assert append_log(path, first) == first
    before = path.read_text(encoding="utf-8")
    assert append_log(path, first) == []
    edited = annotation_record("a", "x", ["legal_aid"], 1, "t2")
    assert append_log(path, [*first, edited]) == [edited]
    assert path.read_text(encoding="utf-8").startswith(before)
    assert len(read_log(path)) == 3
    path.write_text(before + '{"annotation_id": 3}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"log.jsonl:3: field 'updated_at'"):
        read_log(path)
