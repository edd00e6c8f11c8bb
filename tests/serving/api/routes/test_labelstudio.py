"""The ML backend protocol at /labelstudio, with request bodies shaped as Label Studio 1.23.2 sends them.

The bodies follow ``label_studio/ml/api_connector.py`` (``MLApi.setup`` and ``_prep_prediction_req``) and
``TaskSimpleSerializer`` (every Task field but ``precomputed_agreement``/``allow_skip``, with annotations
and predictions) of the installed 1.23.2; the live test (tests/labels/test_labelstudio_backend_live.py)
runs the same routes under a real Label Studio.
"""

from __future__ import annotations

import base64
import copy
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio import backend
from policytag.labels.labelstudio.config import ConfigMismatchError, label_config
from policytag.labels.labelstudio.push import model_version, score_sentences
from policytag.training.predictor import Prediction, load_predictor
from policytag.training.train import TrainResult
from tests.support.serving import make_client

SENTENCES = [
    "持续深化行政复议体制改革，全年办理行政复议案件120件。",
    "扎实开展人民调解和法律援助工作。",
    "优化法治化营商环境，推进涉企行政执法检查规范化。",
]


def _task(task_id: int, text: str, *, field: str = "text") -> dict[str, Any]:
    """A task as ``TaskSimpleSerializer`` of Label Studio 1.23.2 serialises it for /predict."""
    return {
        "id": task_id,
        "annotations": [],
        "predictions": [],
        "data": {field: text, "sentence_id": f"003:{task_id:010x}", "doc": "003_fb63a9ae8bf308c5", "index": task_id},
        "meta": {},
        "created_at": "2026-11-21T12:00:00.000000Z",
        "updated_at": "2026-11-21T12:00:00.000000Z",
        "is_labeled": False,
        "overlap": 1,
        "inner_id": task_id,
        "total_annotations": 0,
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 3,
        "updated_by": None,
        "file_upload": 1,
        "comment_authors": [],
    }


def predict_request(taxonomy: Taxonomy, texts: list[str], config: str | None = None) -> dict[str, Any]:
    """``MLApi._prep_prediction_req``: tasks, the project uid, the labelling config and params."""
    return {
        "tasks": [_task(i + 1, t) for i, t in enumerate(texts)],
        "project": "3.1763726400",
        "label_config": config or label_config(taxonomy),
        "params": {"login": None, "password": None, "context": None},
    }


def setup_request(taxonomy: Taxonomy, config: str | None = None) -> dict[str, Any]:
    """``MLApi.setup``: project uid, schema, hostname, the project owner's token, extra params."""
    return {
        "project": "3.1763726400",
        "schema": config or label_config(taxonomy),
        "hostname": "http://localhost:8080",
        "access_token": "0123456789abcdef0123456789abcdef01234567",
        "extra_params": None,
    }


WEBHOOK_ANNOTATION_CREATED = {
    "action": "ANNOTATION_CREATED",
    "annotation": {"id": 41, "result": [], "was_cancelled": False, "task": 17, "completed_by": 1},
    "task": {"id": 17, "data": {"text": SENTENCES[0]}, "project": 3},
    "project": {"id": 3, "title": "policytag", "label_config": "<View/>"},
}


@pytest.fixture(scope="module")
def keyed(tiny_model: TrainResult) -> Iterator[TestClient]:
    with make_client(tiny_model.folder, api_key="s3cret-key", max_sentences=64) as c:
        yield c


def test_health_names_the_model_and_its_version(client: TestClient, tiny_model: TrainResult) -> None:
    r = client.get("/labelstudio/health")
    assert r.status_code == 200
    body = r.json()
    predictor = load_predictor(tiny_model.folder)
    assert body["status"] == "UP" and body["model"] == predictor.name
    assert body["model_version"] == model_version(predictor.manifest)


def test_setup_answers_the_push_model_version(client: TestClient, taxonomy: Taxonomy, tiny_model: TrainResult) -> None:
    r = client.post("/labelstudio/setup", json=setup_request(taxonomy))
    assert r.status_code == 200, r.text
    assert r.json() == {"model_version": model_version(load_predictor(tiny_model.folder).manifest)}


def test_setup_refuses_an_unusable_config(client: TestClient, taxonomy: Taxonomy) -> None:
    r = client.post("/labelstudio/setup", json=setup_request(taxonomy, "<View><Text name='t' value='$t'/></View>"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "schema"
    other = '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="cat"/></Choices></View>'
    r = client.post("/labelstudio/setup", json=setup_request(taxonomy, other))
    assert r.status_code == 422 and "none of the config's choices" in r.json()["error"]["message"]


def test_predict_answers_in_task_order_like_push(
    client: TestClient, taxonomy: Taxonomy, tiny_model: TrainResult
) -> None:
    r = client.post("/labelstudio/predict", json=predict_request(taxonomy, SENTENCES))
    assert r.status_code == 200, r.text
    body = r.json()
    predictor = load_predictor(tiny_model.folder)
    version = model_version(predictor.manifest)
    assert body["model_version"] == version
    # The same prediction push attaches as a pre-annotation (one function builds both).
    expected = score_sentences(predictor, [{"id": str(i), "text": t} for i, t in enumerate(SENTENCES)])
    assert len(body["results"]) == len(SENTENCES)
    for i, got in enumerate(body["results"]):
        want = expected[str(i)].prediction
        assert got["model_version"] == version
        assert got["result"] == want["result"]
        assert got["score"] == pytest.approx(want["score"], abs=1e-4)
        (res,) = got["result"]
        assert res["from_name"] == "labels" and res["to_name"] == "text" and res["type"] == "choices"
        taxonomy.check_labels(res["value"]["choices"])


def test_predict_reads_names_and_text_field_from_the_config(client: TestClient, taxonomy: Taxonomy) -> None:
    # Another project's config: other tag names, the text in $sentence, choices without aliases (Chinese names).
    choices = "".join(f'<Choice value="{label.zh}"/>' for label in taxonomy.labels)
    config = (
        f'<View><Header value="句子"/><Text name="sent" value="$sentence"/>'
        f'<Choices name="cats" toName="sent" choice="multiple">{choices}</Choices></View>'
    )
    body = predict_request(taxonomy, SENTENCES, config)
    body["tasks"] = [_task(i + 1, t, field="sentence") for i, t in enumerate(SENTENCES)]
    body["tasks"].append(_task(99, "no text here", field="other_field"))  # no $sentence: an empty result
    r = client.post("/labelstudio/predict", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(SENTENCES) + 1
    zh = {label.zh for label in taxonomy.labels}
    for got in results[:-1]:
        (res,) = got["result"]
        assert res["from_name"] == "cats" and res["to_name"] == "sent"
        assert res["value"]["choices"] and set(res["value"]["choices"]) <= zh
    assert results[-1]["result"] == []


def test_predict_single_choice_config_gets_one_label(client: TestClient, taxonomy: Taxonomy) -> None:
    single = label_config(taxonomy).replace(' choice="multiple"', "")
    r = client.post("/labelstudio/predict", json=predict_request(taxonomy, SENTENCES, single))
    assert r.status_code == 200
    assert all(len(x["result"][0]["value"]["choices"]) == 1 for x in r.json()["results"])


def test_predict_more_tasks_than_the_per_request_cap(client: TestClient, taxonomy: Taxonomy) -> None:
    # Label Studio sends every task of a retrieve in one request; the client's cap is 64 sentences.
    texts = [f"{SENTENCES[i % 3]}（{i}）" for i in range(150)]
    r = client.post("/labelstudio/predict", json=predict_request(taxonomy, texts))
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]) == 150


def test_predict_without_a_config_uses_the_taxonomy(client: TestClient, taxonomy: Taxonomy) -> None:
    body = predict_request(taxonomy, SENTENCES[:1])
    del body["label_config"]
    r = client.post("/labelstudio/predict", json=body)
    assert r.status_code == 200 and r.json()["results"][0]["result"][0]["from_name"] == "labels"


def test_predict_bad_bodies_are_422(client: TestClient, taxonomy: Taxonomy) -> None:
    assert client.post("/labelstudio/predict", json={"tasks": "x"}).status_code == 422
    bad = predict_request(taxonomy, SENTENCES, "<View><not-xml")
    r = client.post("/labelstudio/predict", json=bad)
    assert r.status_code == 422 and r.json()["error"]["field"] == "label_config"


def test_webhook_answers_at_once_and_records_the_event(client: TestClient) -> None:
    state = client.app.state.policytag  # type: ignore[attr-defined]
    before = len(state.metrics.labelstudio_events)
    t0 = time.perf_counter()
    r = client.post("/labelstudio/webhook", json=WEBHOOK_ANNOTATION_CREATED)
    assert time.perf_counter() - t0 < 1.0  # Label Studio waits 1 s at most
    assert r.status_code == 200 and r.json() == {"status": "ok", "action": "ANNOTATION_CREATED"}
    client.post("/labelstudio/webhook", json={"action": "START_TRAINING", "project": {"id": 3}})
    client.post("/labelstudio/webhook", json={"action": "SOMETHING_NEW_" + "x" * 500})
    events = list(state.metrics.labelstudio_events)[before:]
    assert [e["action"][:14] for e in events] == ["ANNOTATION_CRE", "START_TRAINING", "SOMETHING_NEW_"]
    assert events[0]["project"] == 3 and events[0]["task"] == 17 and events[0]["annotation"] == 41
    metrics = client.get("/metrics").text
    assert re.search(r'policytag_labelstudio_webhooks_total\{action="ANNOTATION_CREATED"\} [1-9]', metrics)
    assert re.search(r'policytag_labelstudio_webhooks_total\{action="other"\} [1-9]', metrics)


def test_webhook_events_are_bounded(client: TestClient) -> None:
    state = client.app.state.policytag  # type: ignore[attr-defined]
    for i in range(250):
        client.post("/labelstudio/webhook", json={"action": "TASKS_CREATED", "project": {"id": i}})
    events = state.metrics.labelstudio_events
    assert len(events) == events.maxlen and events[-1]["project"] == 249


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer s3cret-key"},
        {"Authorization": "Token s3cret-key"},
        {"Authorization": _basic("policytag", "s3cret-key")},  # what Label Studio sends with BASIC_AUTH
        {"Authorization": _basic("anyone", "s3cret-key")},
        {"X-API-Key": "s3cret-key"},
    ],
)
def test_key_accepted_as_label_studio_can_send_it(
    keyed: TestClient, taxonomy: Taxonomy, headers: dict[str, str]
) -> None:
    assert keyed.post("/labelstudio/setup", json=setup_request(taxonomy), headers=headers).status_code == 200
    r = keyed.post("/labelstudio/predict", json=predict_request(taxonomy, SENTENCES[:1]), headers=headers)
    assert r.status_code == 200
    assert keyed.post("/labelstudio/webhook", json=WEBHOOK_ANNOTATION_CREATED, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": _basic("policytag", "wrong")},
        {"Authorization": _basic("s3cret-key", "")},  # the key as user name is not the password
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "s3cret-key"},
    ],
)
def test_key_required_when_set(keyed: TestClient, taxonomy: Taxonomy, headers: dict[str, str]) -> None:
    for path, body in (
        ("/labelstudio/setup", setup_request(taxonomy)),
        ("/labelstudio/predict", predict_request(taxonomy, SENTENCES[:1])),
        ("/labelstudio/webhook", copy.deepcopy(WEBHOOK_ANNOTATION_CREATED)),
    ):
        r = keyed.post(path, json=body, headers=headers)
        assert r.status_code == 401, path
        assert "Basic" in r.headers["www-authenticate"]
        assert "s3cret-key" not in r.text
    # Health stays open, like /healthz (Label Studio checks it before it sends credentials anywhere else).
    assert keyed.get("/labelstudio/health").json()["status"] == "UP"


def test_openapi_documents_the_backend_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/labelstudio/health", "/labelstudio/setup", "/labelstudio/predict", "/labelstudio/webhook"):
        assert path in spec["paths"]
    schemas = spec["components"]["schemas"]
    for name in ("SetupRequest", "PredictRequest", "PredictResponse", "WebhookEvent", "BackendHealth"):
        assert schemas[name].get("examples"), name


@dataclass
class _Model:
    """Not a training predictor: the backend reads a model only through its manifest, taxonomy and thresholds."""

    taxonomy: Taxonomy
    thresholds: list[float]
    manifest: dict[str, Any]

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        raise AssertionError("the server batches sentences itself: the backend never calls predict")


def test_backend_predictions_need_no_training_predictor(taxonomy: Taxonomy) -> None:
    model = _Model(taxonomy, [0.5] * len(taxonomy.ids), {"name": "fake", "data_fingerprint": "sha256:" + "ab" * 32})
    single = backend.project_config(label_config(taxonomy).replace(' choice="multiple"', ""), taxonomy)
    scores = dict.fromkeys(taxonomy.ids, 0.1) | {taxonomy.ids[0]: 0.7, taxonomy.ids[1]: 0.9}
    texts = backend.task_texts([{"text": "甲。"}, {}, {"text": "乙。"}], single)
    assert texts == {0: "甲。", 2: "乙。"}
    answers = {i: Prediction([taxonomy.ids[0], taxonomy.ids[1]], scores) for i in texts}
    got = backend.task_predictions(3, answers, single, model)
    assert [p["model_version"] for p in got] == ["fake-abababababab"] * 3
    assert got[1] == {"result": [], "score": 0.0, "model_version": "fake-abababababab"}
    assert got[0]["result"][0]["value"]["choices"] == [taxonomy.ids[1]]  # single choice: the best scoring label
    with pytest.raises(ConfigMismatchError, match="none of the config's choices"):
        backend.project_config('<View><Choices name="c" toName="t"><Choice value="cat"/></Choices></View>', taxonomy)
