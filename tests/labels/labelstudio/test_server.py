"""The Label Studio loop against a real Label Studio 1.23.2 server on 127.0.0.1.

The server is installed into ``.venv-ls`` when missing (``make test`` does it first), started once per
session from a copy of the template data dir on a free port, and stopped with SIGTERM. The tests skip
only when Label Studio cannot be installed, and say so loudly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policytag.cli import main
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio import server as ls_server
from policytag.labels.labelstudio.client import Client, LabelStudioError, connect, find_tasks_by_sentence, list_tasks
from policytag.labels.labelstudio.config import ConfigMismatchError, label_config
from policytag.labels.labelstudio.push import choices_result, push, read_sentences
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult
from tests.support.labelstudio import require_label_studio
from tests.support.paths import ROOT

N_SENTENCES = 250  # more than two pages of the task list (100 per page)


@dataclass
class LS:
    """A running server and SDK clients for its two users."""

    server: ls_server.LabelStudioServer
    admin: Client
    annotator: Client
    annotator_email: str


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LS]:
    require_label_studio("the real-server tests")
    data_dir = tmp_path_factory.mktemp("labelstudio") / "data"
    admin = ls_server.Credentials.generate("admin@policytag.test")
    annotator = ls_server.Credentials.generate("annotator2@policytag.test")
    with ls_server.start_server(data_dir, admin) as server:
        ls_server.create_user(server.data_dir, annotator)
        yield LS(
            server=server,
            admin=connect(server.url, admin.token),
            annotator=connect(server.url, annotator.token),
            annotator_email=annotator.username,
        )
    assert server.process.returncode is not None


@pytest.fixture(scope="module")
def sentences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sentences") / "sentences.jsonl"
    write_jsonl(path, read_jsonl(ROOT / "labels" / "sentences.jsonl")[:N_SENTENCES])
    return path


def _cli(capsys: pytest.CaptureFixture[str], ls: LS, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--url", ls.server.url, "--api-key", ls.server.credentials.token])
    out, err = capsys.readouterr()
    assert ls.server.credentials.token not in out + err, "the API key was printed"
    return rc, out, err


@pytest.fixture(scope="module")
def pushed(ls: LS, sentences: Path, tfidf_model: TrainResult) -> dict[str, Any]:
    """250 sentences pushed once, with the TF-IDF model's predictions, into the project 'roundtrip'."""
    predictor = load_predictor(tfidf_model.folder)
    result = push(ls.admin, "roundtrip", read_sentences(sentences), predictor.taxonomy, predictor=predictor)
    return {"result": result, "predictor": predictor}


def test_server_answers_as_the_admin(ls: LS) -> None:
    assert ls.server.url.startswith("http://127.0.0.1:")
    assert ls.admin.sdk.users.whoami().email == "admin@policytag.test"
    assert ls.annotator.sdk.users.whoami().email == ls.annotator_email


def test_wrong_key_is_refused_without_printing_it(ls: LS) -> None:
    with pytest.raises(LabelStudioError) as e:
        connect(ls.server.url, "wrong-key-0123456789")
    assert "401" in str(e.value)
    assert "wrong-key-0123456789" not in str(e.value)


def test_push_creates_one_task_per_sentence_with_predictions(
    ls: LS, pushed: dict[str, Any], taxonomy: Taxonomy
) -> None:
    result = pushed["result"]
    assert len(result.plan.create) == N_SENTENCES and result.tasks_after == N_SENTENCES
    tasks = list_tasks(ls.admin, result.project_id)  # three pages of 100
    assert len(tasks) == N_SENTENCES
    assert len({t["data"]["sentence_id"] for t in tasks}) == N_SENTENCES
    version = result.model_version
    assert version and version.startswith("tfidf-")
    for t in tasks:
        assert set(t["data"]) == {"text", "sentence_id", "doc", "index"}
        (pred,) = t["predictions"]
        assert pred["model_version"] == version
        assert 0.0 <= pred["score"] <= 1.0
        (res,) = pred["result"]
        assert res["from_name"] == "labels" and res["to_name"] == "text"
        taxonomy.check_labels(res["value"]["choices"])


def test_push_again_updates_and_never_duplicates(
    ls: LS, pushed: dict[str, Any], sentences: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _cli(capsys, ls, "labels", "push", "--project", "roundtrip", "--sentences", str(sentences))
    assert rc == 0, out
    assert "0 new tasks, 0 tasks updated" in out and f"has {N_SENTENCES} tasks" in out
    # A sentence whose provenance changed is updated in place.
    records = read_sentences(sentences)
    records[7]["index"] = 9999
    moved = sentences.with_name("moved.jsonl")
    write_jsonl(moved, records)
    predictor = pushed["predictor"]
    again = push(ls.admin, "roundtrip", read_sentences(moved), predictor.taxonomy, predictor=predictor)
    assert (len(again.plan.create), len(again.plan.update), again.plan.unchanged) == (0, 1, N_SENTENCES - 1)
    assert again.plan.add_predictions == [] and again.tasks_after == N_SENTENCES
    assert again.project_id is not None
    (task,) = find_tasks_by_sentence(ls.admin, again.project_id, records[7]["id"])
    assert task["data"]["index"] == 9999
    assert len(list_tasks(ls.admin, again.project_id)) == N_SENTENCES


def _annotate(client: Client, task_id: int, labels: list[str] | None, **kw: Any) -> int:
    result = choices_result(labels) if labels is not None else []
    ann = client.sdk.annotations.create(id=task_id, result=result, lead_time=2.5, **kw)
    return int(ann.id)


def test_annotate_pull_consolidate_and_agreement(
    ls: LS, pushed: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], taxonomy: Taxonomy
) -> None:
    project_id = pushed["result"].project_id
    tasks = {t["data"]["sentence_id"]: t for t in list_tasks(ls.admin, project_id, fields="task_only")}
    gold = {r["id"]: r for r in read_jsonl(ROOT / "labels" / "gold.jsonl")}
    sids = sorted(tasks)[:8]
    agree, tie, skipped, updated, unknown, combined, by_name, third = sids
    tid = {sid: int(tasks[sid]["id"]) for sid in sids}
    _annotate(ls.admin, tid[agree], ["legal_aid"])
    _annotate(ls.annotator, tid[agree], ["legal_aid"])
    _annotate(ls.admin, tid[tie], ["mediation"])
    _annotate(ls.annotator, tid[tie], ["enforcement"])
    _annotate(ls.admin, tid[skipped], ["legislation"])
    _annotate(ls.annotator, tid[skipped], None, was_cancelled=True)
    edited = _annotate(ls.admin, tid[updated], ["enforcement"])
    bad = _annotate(ls.annotator, tid[unknown], ["enforcement", "not_a_label"])
    _annotate(ls.admin, tid[combined], ["other", "mediation"])
    ls.admin.sdk.annotations.create(
        id=tid[by_name], result=[{**choices_result([])[0], "value": {"choices": ["法律援助"]}}]
    )
    _annotate(ls.annotator, tid[third], ["government_services"])

    out_dir = tmp_path / "labels"
    paths = {
        "--out": out_dir / "annotations.jsonl",
        "--consolidated": out_dir / "consolidated.jsonl",
        "--conflicts": out_dir / "conflicts.jsonl",
    }
    argv = ["labels", "pull", "--project", "roundtrip", "--gold", str(ROOT / "labels" / "gold.jsonl")]
    argv += [str(x) for kv in paths.items() for x in kv]

    # A dry run writes nothing.
    rc, out, err = _cli(capsys, ls, *argv, "--dry-run")
    assert rc == 0 and "would add 11 new" in out
    assert not any(p.exists() for p in paths.values())

    rc, out, err = _cli(capsys, ls, *argv)
    assert rc == 0, err
    log = read_jsonl(paths["--out"])
    assert len(log) == 11 and "added 11 new" in out
    assert {r["annotator"] for r in log} == {"admin@policytag.test", ls.annotator_email}
    for r in log:
        assert {
            "sentence_id",
            "text",
            "labels",
            "annotator",
            "annotation_id",
            "created_at",
            "updated_at",
            "lead_time",
            "was_cancelled",
            "prediction_model_version",
        } <= set(r)
        assert r["prediction_model_version"] == pushed["result"].model_version
    (skip,) = [r for r in log if r["was_cancelled"]]
    assert skip["sentence_id"] == skipped and skip["annotator"] == ls.annotator_email
    # Unusable annotations are reported with task id and annotator, and logged with the problem.
    assert f"task {tid[unknown]}, annotation {bad} by {ls.annotator_email}" in err and "not_a_label" in err
    assert f"task {tid[combined]}" in err and "exclusive" in err
    problems = {r["sentence_id"]: r["problem"] for r in log if r["problem"]}
    assert set(problems) == {unknown, combined}

    consolidated = {r["id"]: r for r in read_jsonl(paths["--consolidated"])}
    assert set(consolidated) == set(gold)  # every gold sentence kept; nothing outside it was annotated
    assert consolidated[agree]["labels"] == ["legal_aid"] and consolidated[agree]["source"] == "labelstudio"
    assert consolidated[agree]["annotator"] == f"admin@policytag.test+{ls.annotator_email}"
    assert consolidated[skipped]["labels"] == ["legislation"]  # the skip does not count
    assert consolidated[updated]["labels"] == ["enforcement"]
    assert consolidated[by_name]["labels"] == ["legal_aid"]  # a Chinese name maps to its id
    assert consolidated[third]["labels"] == ["government_services"]
    # The tie is a conflict: listed, and the gold labels stay.
    assert consolidated[tie] == gold[tie]
    (conflict,) = read_jsonl(paths["--conflicts"])
    assert conflict["id"] == tie
    assert conflict["votes"] == {"admin@policytag.test": ["mediation"], ls.annotator_email: ["enforcement"]}
    assert f"conflict {tie}" in out
    # Problem annotations do not count: the gold labels stay.
    assert consolidated[unknown] == gold[unknown] and consolidated[combined] == gold[combined]

    # Pulling again adds nothing; an edit adds exactly one new version, which then wins.
    rc, out, _ = _cli(capsys, ls, *argv)
    assert rc == 0 and "added 0 new" in out and len(read_jsonl(paths["--out"])) == 11
    ls.admin.sdk.annotations.update(id=edited, result=choices_result(["enforcement", "business_environment"]))
    rc, out, _ = _cli(capsys, ls, *argv)
    log2 = read_jsonl(paths["--out"])
    assert rc == 0 and "added 1 new" in out and len(log2) == 12
    assert log2[:11] == log  # append-only
    assert log2[11]["annotation_id"] == edited
    consolidated = {r["id"]: r for r in read_jsonl(paths["--consolidated"])}
    assert consolidated[updated]["labels"] == ["enforcement", "business_environment"]
    rc, out, _ = _cli(capsys, ls, *argv)
    assert "added 0 new" in out and len(read_jsonl(paths["--out"])) == 12

    # Agreement from the log: two annotators → Cohen's kappa; the tie is listed.
    assert main(["labels", "agreement", "--log", str(paths["--out"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "cohen" and report["items"] == 2  # `agree` and `tie` (the skip does not count)
    assert report["exact_match"] == 0.5
    assert [c["id"] for c in report["conflicts"]] == [tie]
    assert set(report["per_label"]) == set(taxonomy.ids)
    assert main(["labels", "agreement", "--log", str(paths["--out"])]) == 0
    assert "Cohen's κ over 2 sentences" in capsys.readouterr().out


def test_config_mismatch_is_refused(
    ls: LS, sentences: Path, taxonomy: Taxonomy, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = label_config(taxonomy).replace('alias="legal_aid"', 'alias="legal_help"')
    project = ls.admin.sdk.projects.create(title="mismatched", label_config=wrong)
    with pytest.raises(ConfigMismatchError, match=r"choices missing for label ids \['legal_aid'\]"):
        push(ls.admin, "mismatched", read_sentences(sentences), taxonomy)
    rc, _, err = _cli(capsys, ls, "labels", "push", "--project", "mismatched", "--sentences", str(sentences))
    assert rc == 2 and "does not match the taxonomy" in err and "legal_help" in err
    assert list_tasks(ls.admin, int(project.id)) == []
    assert ls.admin.sdk.projects.get(project.id).label_config.strip() == wrong.strip()
