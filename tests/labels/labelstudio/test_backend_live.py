"""policytag's ML backend under a real Label Studio 1.23.2: connect, retrieve predictions, webhooks.

A live ``policytag serve`` (with an API key) on 127.0.0.1 and a Label Studio started with
``LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false`` and ``LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false`` (what it needs to
call a backend on 127.0.0.1; local development only). Skipped only when Label Studio cannot be installed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from policytag.cli import main
from policytag.cli.labelstudio import LOCAL_ML_ENV
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.labels.labelstudio import server as ls_server
from policytag.labels.labelstudio.client import Client, connect, list_tasks
from policytag.labels.labelstudio.push import choices_result, model_version, push, read_sentences
from policytag.training.predictor import load_predictor
from policytag.training.train import TrainResult
from tests.support.labelstudio import require_label_studio
from tests.support.paths import ROOT
from tests.support.serving import live_server

N_TASKS = 120
BACKEND_KEY = "backend-key-0123456789"


@pytest.fixture(scope="module")
def ls_local_ml(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ls_server.LabelStudioServer, Client]]:
    require_label_studio("the ML backend tests")
    data_dir = tmp_path_factory.mktemp("labelstudio-ml") / "data"
    admin = ls_server.Credentials.generate("admin@policytag.test")
    with ls_server.start_server(data_dir, admin, extra_env=LOCAL_ML_ENV) as server:
        yield server, connect(server.url, admin.token)


@pytest.fixture(scope="module")
def backend(tiny_model: TrainResult) -> Iterator[str]:
    with live_server(tiny_model.folder, api_key=BACKEND_KEY) as (base, _):
        yield base


def _metric(text: str, pattern: str) -> float:
    m = re.search(pattern + r" ([0-9.e+]+)", text)
    return float(m.group(1)) if m else 0.0


def test_connect_and_retrieve_predictions_for_all_tasks(
    ls_local_ml: tuple[ls_server.LabelStudioServer, Client],
    backend: str,
    tiny_model: TrainResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, client = ls_local_ml
    sentences = tmp_path / "sentences.jsonl"
    write_jsonl(sentences, read_jsonl(ROOT / "labels" / "sentences.jsonl")[:N_TASKS])
    predictor = load_predictor(tiny_model.folder)
    made = push(client, "backend", read_sentences(sentences), predictor.taxonomy)  # no pre-annotations
    assert made.tasks_after == N_TASKS and made.project_id is not None
    assert all(not t["predictions"] for t in list_tasks(client, made.project_id))

    argv = ["labels", "connect", "--project", "backend", "--backend-url", f"{backend}/labelstudio"]
    argv += ["--backend-key", BACKEND_KEY, "--retrieve", "--url", server.url, "--api-key", server.credentials.token]
    t0 = time.monotonic()
    rc = main(argv)
    took = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert BACKEND_KEY not in out + err and server.credentials.token not in out + err
    version = model_version(predictor.manifest)
    assert "registered ML backend" in out and version in out
    print(f"connect + retrieve_tasks_predictions of {N_TASKS} tasks: {took:.1f} s")

    (ml,) = client.sdk.ml.list(project=made.project_id)
    assert ml.url == f"{backend}/labelstudio" and ml.auth_method == "BASIC_AUTH"
    tasks = list_tasks(client, made.project_id)
    assert len(tasks) == N_TASKS
    preds = predictor.predict([t["data"]["text"] for t in tasks])
    for task, want in zip(tasks, preds, strict=True):
        (pred,) = task["predictions"]  # every task, exactly one prediction
        assert pred["model_version"] == version
        (res,) = pred["result"]
        assert res["from_name"] == "labels" and res["to_name"] == "text"
        assert res["value"]["choices"] == want.labels
        assert 0.0 <= pred["score"] <= 1.0

    # Connecting again updates the registration; retrieving again adds nothing (same model version).
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0 and "updated ML backend" in out, out + err
    assert len(client.sdk.ml.list(project=made.project_id)) == 1
    assert all(len(t["predictions"]) == 1 for t in list_tasks(client, made.project_id))

    # Label Studio's webhook for the backend carries the key: an annotation reaches /labelstudio/webhook.
    created = r'policytag_labelstudio_webhooks_total\{action="ANNOTATION_CREATED"\}'
    refused = r'policytag_requests_total\{route="/labelstudio/[a-z]+",method="POST",status="401"\}'
    with httpx.Client(base_url=backend, timeout=10) as c:
        before = _metric(c.get("/metrics").text, created)
        client.sdk.annotations.create(id=int(tasks[0]["id"]), result=choices_result(["legal_aid"]))
        metrics = c.get("/metrics").text
    assert _metric(metrics, created) == before + 1
    assert _metric(metrics, refused) == 0  # every call of Label Studio carried the key
