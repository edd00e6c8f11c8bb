"""Label Studio's ML backend protocol, mounted at ``/labelstudio``: health, setup, predict, webhook.

Connect it with ``policytag labels connect --project TITLE --backend-url http://HOST:PORT/labelstudio``.
Label Studio (1.23) then calls:

- ``GET /labelstudio/health`` → ``{"status": "UP", ...}`` (1 s time-out; open, like ``/healthz``);
- ``POST /labelstudio/setup`` ``{"project", "schema", "hostname", "access_token", "extra_params"}`` →
  ``{"model_version"}`` before every batch of predictions; the version is the one ``policytag labels push``
  gives its pre-annotations (``policytag.labels.labelstudio.push.model_version``: model name + fingerprint), so tasks
  pushed with predictions of this model are not predicted again;
- ``POST /labelstudio/predict`` ``{"tasks", "project", "label_config", "params"}`` → ``{"results": [...]}``,
  one prediction per task in task order, every sentence through the app's micro-batcher. ``from_name``,
  ``to_name`` and the task data field holding the text are read from the project's labelling config;
  labels are answered as the config stores them (the taxonomy id when it is a choice's ``alias`` or
  ``value``, else the choice showing the label's Chinese name); ``score`` is the sentence's confidence
  (``policytag.labels.labelstudio.push.confidence``). A task without text gets an empty result;
- ``POST /labelstudio/webhook``: events (``ANNOTATION_CREATED``, ``START_TRAINING``, ...). Without Redis Label
  Studio sends them synchronously with a 1 s time-out, so the event is only counted
  (``policytag_labelstudio_webhooks_total``) and summarised in a bounded in-memory list; nothing is trained
  inside the request (retraining is ``policytag labels pull`` + ``policytag train``).


**API key.** With ``POLICYTAG_API_KEY`` set, setup, predict and webhook need the key like the ``/v1`` routes,
also as ``Authorization: Token KEY`` or HTTP Basic auth with the key as the password, because that is how
Label Studio can send it (:mod:`policytag.serving.api.deps` says why); ``policytag labels connect
--backend-key`` registers it both ways (Basic auth for the backend, a Bearer header for its webhook).

The protocol's meaning (the project's config, the tasks' texts, the predictions, an event's summary) is
:mod:`policytag.labels.labelstudio.backend`; this module is the HTTP around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio import backend
from policytag.labels.labelstudio.config import ConfigMismatchError
from policytag.labels.labelstudio.push import model_version
from policytag.serving.api.deps import ReadyState, get_state, require_backend_key
from policytag.serving.api.labelstudio_schemas import (
    BackendHealth,
    PredictRequest,
    PredictResponse,
    SetupRequest,
    SetupResponse,
    TaskPrediction,
    WebhookAck,
    WebhookEvent,
)
from policytag.serving.api.routes.classify import ERRORS, classify_texts

__all__ = ["router"]

router = APIRouter(prefix="/labelstudio", tags=["labelstudio"])


def _secured_post(
    path: str, response_model: type[BaseModel], summary: str, responses: dict[int | str, dict[str, Any]] = ERRORS
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``router.post`` for the routes that need the API key (as Label Studio can send it)."""
    return router.post(
        path,
        response_model=response_model,
        responses=responses,
        dependencies=[Depends(require_backend_key)],
        summary=summary,
    )


def _project_config(xml: str | None, taxonomy: Taxonomy, *, field: str) -> backend.ProjectConfig:
    """The project's config; 422 naming the request ``field`` when it is unusable."""
    try:
        return backend.project_config(xml, taxonomy)
    except ConfigMismatchError as e:
        raise HTTPException(status_code=422, detail={"message": str(e), "field": field}) from None


@router.get(
    "/health",
    response_model=BackendHealth,
    responses={503: {"model": BackendHealth, "description": "the model is not loaded yet"}},
    summary="ML backend health (Label Studio)",
)
async def health(request: Request) -> JSONResponse:
    """`{"status": "UP"}` once the model is loaded (503 `DOWN` before); open like `/healthz`."""
    ready = get_state(request).ready
    if ready is not None:
        version = model_version(ready.predictor.manifest)
        up = BackendHealth(status="UP", model=ready.predictor.name, model_version=version)
        return JSONResponse(up.model_dump())
    return JSONResponse(BackendHealth(status="DOWN").model_dump(), status_code=503)


@_secured_post("/setup", SetupResponse, "ML backend setup (Label Studio)")
async def setup(body: SetupRequest, state: ReadyState) -> SetupResponse:
    """Check the project's labelling config and answer the model version its predictions carry."""
    if body.label_schema is not None:
        _project_config(body.label_schema, state.predictor.taxonomy, field="schema")
    return SetupResponse(model_version=model_version(state.predictor.manifest))


@_secured_post("/predict", PredictResponse, "ML backend predictions (Label Studio)")
async def predict(body: PredictRequest, state: ReadyState) -> PredictResponse:
    """One prediction per task, in task order: the model's labels as the config's choices, with a confidence."""
    config = _project_config(body.label_config, state.predictor.taxonomy, field="label_config")
    texts = backend.task_texts([task.data for task in body.tasks], config)
    # Label Studio sends every task without a prediction of this version in one request: the sentences go
    # to the batcher in slices of the per-request cap, so a large project is predicted, not refused with 413.
    sentences, step = list(texts.values()), state.settings.max_sentences
    answers = []
    for start in range(0, len(sentences), step):
        answers += await classify_texts(state, sentences[start : start + step], field="tasks")
    by_task = dict(zip(texts, answers, strict=True))
    results = backend.task_predictions(len(body.tasks), by_task, config, state.predictor)
    return PredictResponse(
        results=[TaskPrediction(**r) for r in results], model_version=model_version(state.predictor.manifest)
    )


@_secured_post("/webhook", WebhookAck, "Label Studio events", responses={401: ERRORS[401], 422: ERRORS[422]})
async def webhook(body: WebhookEvent, request: Request) -> WebhookAck:
    """Counted and summarised at once (Label Studio waits 1 s at most); no training happens here."""
    action = body.action or ""
    get_state(request).metrics.record_labelstudio_event(action, backend.event_summary(action, body.model_extra or {}))
    return WebhookAck(action=body.action)
