"""The Label Studio loop without a server: config, choices, the annotation log, consolidation, push planning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policytag.core.jsonl import DataError
from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.annotator_agreement import compute_agreement
from policytag.labels.labelstudio.client import LabelStudioError, redact, resolve_connection
from policytag.labels.labelstudio.config import (
    ConfigMismatchError,
    check_label_config,
    label_config,
    parse_label_config,
)
from policytag.labels.labelstudio.pull import annotation_records, append_log, consolidate, parse_choices, read_log
from policytag.labels.labelstudio.push import (
    Scored,
    confidence,
    model_version,
    plan_push,
    read_sentences,
    select,
    task_data,
)

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


def test_label_config_shows_chinese_names_and_stores_ids(taxonomy: Taxonomy) -> None:
    xml = label_config(taxonomy)
    parsed = parse_label_config(xml)
    assert (parsed.from_name, parsed.to_name, parsed.multiple) == ("labels", "text", True)
    assert parsed.choices == {label.id: label.zh for label in taxonomy.labels}
    assert '<Text name="text" value="$text"/>' in xml
    assert f'hint="{taxonomy["legal_aid"].description}"' in xml
    check_label_config(xml, taxonomy)  # its own config matches


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('alias="mediation"', 'alias="dispute"'),
            r"missing for label ids \['mediation'\].*not in the taxonomy: \['dispute'\]",
        ),
        (('value="法律援助"', 'value="法援"'), r"legal_aid: '法援' \(taxonomy: '法律援助'\)"),
        (('choice="multiple"', 'choice="single"'), "single-choice"),
        (('name="labels"', 'name="cats"'), 'name="cats"'),
        (('value="$text"', 'value="$sentence"'), r'no <Text name="text" value="\$text"/>'),
        (("<View>", "<View><Choices name='x' toName='text'/>"), "exactly one <Choices>"),
        (("</View>", "</Vie>"), "not valid XML"),
    ],
)
def test_config_mismatch_names_the_difference(taxonomy: Taxonomy, edit: tuple[str, str], message: str) -> None:
    xml = label_config(taxonomy).replace(*edit)
    with pytest.raises(ConfigMismatchError, match=message):
        check_label_config(xml, taxonomy)


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


def _rec(sid: str, annotator: str, labels: list[str], aid: int, updated: str, **kw: Any) -> dict[str, Any]:
    return {
        "sentence_id": sid,
        "text": f"text of {sid}",
        "doc": "d",
        "labels": labels,
        "annotator": annotator,
        "annotation_id": aid,
        "updated_at": updated,
        "was_cancelled": False,
        "problem": None,
        **kw,
    }


def test_consolidation_rules(taxonomy: Taxonomy) -> None:
    log = [
        # majority of three
        _rec("a", "x", ["mediation"], 1, "t1"),
        _rec("a", "y", ["mediation"], 2, "t1"),
        _rec("a", "z", ["legal_aid"], 3, "t1"),
        # a three-way tie and a two-way tie
        _rec("b", "x", ["mediation"], 4, "t1"),
        _rec("b", "y", ["legal_aid"], 5, "t1"),
        _rec("b", "z", ["other"], 6, "t1"),
        _rec("c", "x", ["mediation"], 7, "t1"),
        _rec("c", "y", ["legal_aid"], 8, "t1"),
        # the latest version of an annotation counts; an annotator's latest annotation counts
        _rec("d", "x", ["mediation"], 9, "t1"),
        _rec("d", "x", ["enforcement"], 9, "t2"),
        _rec("e", "x", ["mediation"], 10, "t1"),
        _rec("e", "x", ["legislation"], 11, "t3"),
        # skipped and problem annotations do not count
        _rec("f", "x", ["mediation"], 12, "t1"),
        _rec("f", "y", [], 13, "t2", was_cancelled=True),
        _rec("g", "x", ["other", "mediation"], 14, "t1", problem="exclusive"),
        # an annotation later cancelled (its latest version) does not count
        _rec("h", "x", ["mediation"], 15, "t1"),
        _rec("h", "x", [], 15, "t2", was_cancelled=True),
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
    first = [_rec("a", "x", ["mediation"], 1, "t1"), _rec("b", "x", ["mediation"], 2, "t1")]
    assert append_log(path, first, dry_run=True) == first and not path.exists()
    assert append_log(path, first) == first
    before = path.read_text(encoding="utf-8")
    assert append_log(path, first) == []
    edited = _rec("a", "x", ["legal_aid"], 1, "t2")
    assert append_log(path, [*first, edited]) == [edited]
    assert path.read_text(encoding="utf-8").startswith(before)
    assert len(read_log(path)) == 3
    path.write_text(before + '{"annotation_id": 3}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"log.jsonl:3: field 'updated_at'"):
        read_log(path)


def test_agreement_cohen_and_fleiss(taxonomy: Taxonomy) -> None:
    two = [
        _rec("a", "x", ["mediation"], 1, "t"),
        _rec("a", "y", ["mediation"], 2, "t"),
        _rec("b", "x", ["legal_aid"], 3, "t"),
        _rec("b", "y", ["mediation"], 4, "t"),
        _rec("c", "x", ["other"], 5, "t"),
        _rec("c", "y", ["other"], 6, "t"),
    ]
    report = compute_agreement(two, taxonomy)
    assert report.method == "cohen" and report.items == 3 and report.exact_match == 0.6667
    assert report.per_label["other"] == 1.0 and report.per_label["enforcement"] is None
    assert [c["id"] for c in report.conflicts] == ["b"]
    three = [*two, _rec("a", "z", ["mediation"], 7, "t"), _rec("b", "z", ["legal_aid"], 8, "t")]
    report = compute_agreement(three, taxonomy)
    assert report.method == "fleiss" and report.raters_per_item == 3 and report.items == 2
    assert report.conflicts == []  # 2 of 3 agree on b
    assert compute_agreement(two[:1], taxonomy).method == "none"


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


def test_connection_settings_and_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(LabelStudioError, match="--url or LABEL_STUDIO_URL and --api-key") as e:
        resolve_connection(None, None)
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://h:1/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-key")
    assert resolve_connection(None, None) == ("http://h:1", "secret-key")
    assert resolve_connection("http://other", "k2") == ("http://other", "k2")
    assert "secret" not in str(e.value)
    assert redact("Token secret-key rejected", "secret-key") == "Token *** rejected"


def test_read_sentences_leaves_out_what_is_never_labelled(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rows = [
        {"id": "d:1", "text": "甲。", "doc": "d", "index": 0, "copies": 1},
        {"id": "e:1", "text": "甲。", "doc": "e", "index": 0, "duplicate_of": "d:1"},
        {"id": "e:2", "text": "推进社区矫", "doc": "e", "index": 1, "fragment": True},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert [r["id"] for r in read_sentences(path)] == ["d:1"]
