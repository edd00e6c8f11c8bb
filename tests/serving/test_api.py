from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from policytag.core.splitter import split_sentences
from policytag.serving.app import create_app
from policytag.serving.core.config import Settings
from policytag.training.numerics.guard import read_guard
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult
from tests.support.serving import make_client

SENTENCES = ["持续深化行政复议体制改革。", "首页", "扎实开展人民调解和法律援助工作。"]
DOC = "一、深化行政复议体制改革\n全年办理行政复议案件120件；调解成功率达到95.5%。\n\n分享到：微信"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_readyz_is_503_before_the_model_is_loaded(tiny_model: TrainResult) -> None:
    app = create_app(Settings(model_path=str(tiny_model.folder)))
    c = TestClient(app)  # no lifespan: the model is never loaded
    assert c.get("/readyz").status_code == 503
    r = c.post("/v1/classify", json={"sentences": ["好"]})
    assert r.status_code == 503 and r.json()["error"]["code"] == 503


def test_classify_matches_the_predictor(client: TestClient, tiny_model: TrainResult) -> None:
    r = client.post("/v1/classify", json={"sentences": SENTENCES})
    assert r.status_code == 200
    body = r.json()
    predictor = load_predictor(tiny_model.folder)
    expected = predictor.predict(SENTENCES)
    assert body["model"] == {"name": predictor.name, "version": predictor.version}
    for res, exp, text in zip(body["results"], expected, SENTENCES, strict=True):
        assert res["text"] == text and res["labels"] == exp.labels and res["truncated"] is False
        assert res["labels"] == ["other"] or "other" not in res["labels"]
        np.testing.assert_allclose([res["scores"][k] for k in exp.scores], list(exp.scores.values()), atol=1e-4)


def test_documents_offsets_and_summary(client: TestClient) -> None:
    r = client.post("/v1/documents", json={"text": DOC, "id": "r1"})
    assert r.status_code == 200
    body = r.json()
    pieces = split_sentences(DOC)
    assert body["id"] == "r1" and len(body["sentences"]) == len(pieces)
    for s in body["sentences"]:
        assert DOC[s["start"] : s["end"]] == s["text"]
    counts: dict[str, int] = {}
    for s in body["sentences"]:
        for label in s["labels"]:
            counts[label] = counts.get(label, 0) + 1
    assert body["summary"]["counts"] == counts
    assert body["summary"]["share"] == {k: round(v / len(pieces), 4) for k, v in counts.items()}


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("r.txt", DOC.encode("utf-8"), "utf-8"),
        ("r.md", DOC.encode("gb18030"), "gb18030"),
        ("r.html", f"<html><body><p>{DOC.replace(chr(10), '</p><p>')}</p></body></html>".encode(), "utf-8"),
    ],
)
def test_document_upload(client: TestClient, name: str, data: bytes, encoding: str) -> None:
    r = client.post("/v1/documents/file", files={"file": (name, data)})
    assert r.status_code == 200, r.text
    texts = [s["text"] for s in r.json()["sentences"]]
    assert "全年办理行政复议案件120件；" in texts and r.json()["id"] == "r"


def test_upload_errors(client: TestClient) -> None:
    r = client.post("/v1/documents/file", files={"file": ("r.pdf", b"%PDF")})
    assert r.status_code == 415 and r.json()["error"]["field"] == "file"
    r = client.post("/v1/documents/file", files={"file": ("r.txt", b"\xff\xfe\xfd\x80\x81\xff")})
    assert r.status_code == 422 and "not UTF-8" in r.json()["error"]["message"]
    r = client.post("/v1/documents/file", files={"file": ("r.txt", b"  \n ")})
    assert r.status_code == 422


def test_labels_and_model(client: TestClient, tiny_model: TrainResult) -> None:
    labels = client.get("/v1/labels").json()
    assert [x["id"] for x in labels][-1] == "other" and labels[0]["zh"] == "行政执法"
    info = client.get("/v1/model").json()
    manifest = json.loads((tiny_model.folder / "policytag.json").read_text())
    assert info["base_model"]["kind"] == "scratch" and info["data_fingerprint"] == manifest["data_fingerprint"]
    assert set(info["thresholds"]) == {x["id"] for x in labels}
    assert "validation" in info["metrics"]
    assert info["numerics"]["requested"] == "fp32" and info["numerics"]["used"] == "fp32"
    assert info["precision"] == info["numerics"]  # the old name, a deprecated mirror for one release


def test_model_reports_what_auto_chose_and_why(tiny_model: TrainResult) -> None:
    guard = read_guard(tiny_model.folder)
    assert guard is not None
    admitted = [p for p in ("bf16", "int8") if guard["paths"][p]["qualifies"]]
    with make_client(tiny_model.folder, numerics="auto") as c:
        info = c.get("/v1/model").json()["numerics"]
    assert info["requested"] == "auto" and info["qualified"] == admitted and info["reason"]
    assert info["used"] in ["fp32", *admitted]


def test_numerics_setting_is_checked() -> None:
    with pytest.raises(ValidationError, match="numerics"):
        Settings(numerics="fp16")


def test_the_old_precision_setting_is_still_read_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.warns(FutureWarning, match="'precision' is deprecated.*'numerics'"):
        assert Settings(precision="int8").numerics == "int8"  # type: ignore[call-arg]
    monkeypatch.setenv("POLICYTAG_PRECISION", "bf16")
    with pytest.warns(FutureWarning, match="POLICYTAG_PRECISION is deprecated"):
        assert Settings().numerics == "bf16"
    monkeypatch.setenv("POLICYTAG_NUMERICS", "fp32")
    with pytest.warns(FutureWarning):
        assert Settings().numerics == "fp32"  # the new name wins


def test_the_schema_marks_the_old_model_field_deprecated(client: TestClient) -> None:
    props = client.get("/openapi.json").json()["components"]["schemas"]["ModelInfo"]["properties"]
    assert props["precision"]["deprecated"] is True and "numerics" in props


def test_prometheus_metrics(client: TestClient) -> None:
    client.post("/v1/classify", json={"sentences": ["好"]})
    text = client.get("/metrics").text
    for name in ("policytag_requests_total", "policytag_request_seconds", "policytag_batch_size",
                 "policytag_sentences_total", "policytag_queue_depth"):  # fmt: skip
        assert name in text
    assert 'route="/v1/classify"' in text
    assert 'policytag_numerics_info{int8_engine="",qualified="",requested="fp32",used="fp32"} 1.0' in text


def test_the_metrics_carry_auto_s_choice_and_its_probe() -> None:
    from prometheus_client import generate_latest

    from policytag.serving.core.metrics import Metrics

    metrics = Metrics()
    metrics.record_numerics(
        {"requested": "auto", "used": "openvino-int8", "qualified": ["int8", "openvino-int8"],
         "probe_speedup": {"fp32": 1.0, "int8": 3.1, "openvino-int8": 3.4}}
    )  # fmt: skip
    text = generate_latest(metrics.registry).decode()
    assert 'qualified="int8,openvino-int8",requested="auto",used="openvino-int8"' in text
    assert 'policytag_numerics_probe_speedup{numerics="openvino-int8"} 3.4' in text
    assert 'policytag_numerics_probe_speedup{numerics="int8"} 3.1' in text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sentences": ["好", "   "]}, "body.sentences"),
        ({"sentences": []}, "body.sentences"),
        ({"sentences": "好"}, "body.sentences"),
        ({"sentences": [1, 2]}, "body.sentences.0"),
        ({"sentences": ["好"], "extra": 1}, "body.extra"),
        ({}, "body.sentences"),
    ],
)
def test_422_names_the_field(client: TestClient, payload: dict[str, object], field: str) -> None:
    r = client.post("/v1/classify", json=payload)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field


def test_malformed_json_and_blank_document(client: TestClient) -> None:
    r = client.post("/v1/classify", content=b'{"sentences": [', headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/documents", json={"text": " \n\u3000"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body.text"


def test_too_many_sentences_is_413(client: TestClient) -> None:
    r = client.post("/v1/classify", json={"sentences": ["好"] * 65})
    assert r.status_code == 413 and r.json()["error"]["field"] == "sentences"
    r = client.post("/v1/documents", json={"text": "好。" * 65})
    assert r.status_code == 413


def test_body_cap_counts_streamed_bytes(client: TestClient) -> None:
    big = json.dumps({"sentences": ["很长的句子。" * 2000] * 10}).encode()
    assert client.post("/v1/classify", content=big, headers={"content-type": "application/json"}).status_code == 413

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    # Chunked transfer, no Content-Length to trust: the cap still holds.
    r = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == 413


def test_long_sentence_is_truncated_not_rejected(client: TestClient) -> None:
    r = client.post("/v1/classify", json={"sentences": ["依法行政" * 100, "好"]})
    assert r.status_code == 200
    assert [x["truncated"] for x in r.json()["results"]] == [True, False]


def test_api_key(tiny_model: TrainResult) -> None:
    with make_client(tiny_model.folder, api_key="s3cret") as c:
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("post", "/v1/classify", {"json": {"sentences": ["好"]}}),
            ("get", "/v1/labels", {}),
            ("get", "/v1/model", {}),
            ("post", "/v1/documents", {"json": {"text": "好"}}),
        ]
        for method, path, kw in calls:
            r = getattr(c, method)(path, **kw)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"] == "Bearer"
            r = getattr(c, method)(path, headers={"Authorization": "Bearer s3cret"}, **kw)
            assert r.status_code == 200, path
        assert (
            c.post("/v1/classify", json={"sentences": ["好"]}, headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


def test_api_key_on_v1_as_bearer_or_x_api_key_only(tiny_model: TrainResult) -> None:
    # The /v1 routes take the key as a Bearer token or X-API-Key; Token and Basic auth are the Label Studio
    # backend's alone (one check, configured per route set).
    basic = "Basic " + base64.b64encode(b"user:s3cret").decode()
    with make_client(tiny_model.folder, api_key="s3cret") as c:
        assert c.get("/v1/labels", headers={"X-API-Key": "s3cret"}).status_code == 200
        for auth in ("Token s3cret", basic, "s3cret"):
            r = c.get("/v1/labels", headers={"Authorization": auth})
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", auth
            assert r.json()["error"] == {
                "code": 401,
                "message": "missing or wrong API key (send `Authorization: Bearer KEY`)",
                "field": None,
            }
        # A wrong Bearer key is wrong, whatever X-API-Key says (the Bearer header is read first).
        wrong_bearer = {"Authorization": "Bearer nope", "X-API-Key": "s3cret"}
        assert c.get("/v1/labels", headers=wrong_bearer).status_code == 401


def test_draining_app_is_not_ready(tiny_model: TrainResult) -> None:
    with make_client(tiny_model.folder) as c:
        state = c.app.state.policytag  # type: ignore[attr-defined]
        assert state.ready is state.loaded is not None
        state.drain()
        assert state.ready is None
        assert c.get("/readyz").json() == {"status": "shutting down", "model": None}
        assert c.post("/v1/classify", json={"sentences": ["好"]}).status_code == 503
        assert c.get("/labelstudio/health").status_code == 503
        assert c.get("/healthz").status_code == 200


def test_cors_off_by_default_and_on_when_configured(client: TestClient, tiny_model: TrainResult) -> None:
    r = client.get("/v1/labels", headers={"Origin": "http://example.org"})
    assert "access-control-allow-origin" not in r.headers
    with make_client(tiny_model.folder, cors_origins=["http://example.org"]) as c:
        r = c.get("/v1/labels", headers={"Origin": "http://example.org"})
        assert r.headers["access-control-allow-origin"] == "http://example.org"


def test_openapi_has_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/classify", "/v1/documents", "/v1/documents/file", "/v1/labels", "/v1/model"} <= set(spec["paths"])
    assert spec["components"]["schemas"]["ClassifyRequest"]["examples"]
