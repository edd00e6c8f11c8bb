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

**API key.** With ``POLICYTAG_API_KEY`` set, setup, predict and webhook need the key like the ``/v1`` routes.
Label Studio 1.23 sends no ``Authorization`` header of its own to an ML backend: its connector
(``label_studio/ml/api_connector.py``) only adds HTTP Basic auth when the backend is registered with
``auth_method="BASIC_AUTH"``, and its webhooks send the headers stored with the webhook. So these routes
accept the key as ``Authorization: Bearer KEY``, ``Authorization: Token KEY``, ``X-API-Key: KEY`` or HTTP Basic
auth with the key as the password (any user name); ``policytag labels connect --backend-key`` registers it
both ways (Basic auth for the backend, a Bearer header for its webhook).
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.config import (
    CHOICES_NAME,
    TEXT_NAME,
    ConfigMismatchError,
    ParsedConfig,
    label_config,
    parse_label_config,
)
from policytag.labels.labelstudio.push import model_version, prediction_payload
from policytag.serving.api.deps import ReadyState, get_state
from policytag.serving.api.routes.classify import ERRORS, classify_texts

__all__ = ["router"]

router = APIRouter(prefix="/labelstudio", tags=["labelstudio"])

_EXAMPLE_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="labels" toName="text" choice="multiple">'
    '<Choice value="行政复议与应诉" alias="reconsideration_litigation"/><Choice value="其他" alias="other"/>'
    "</Choices></View>"
)
_EXAMPLE_TEXT = "持续深化行政复议体制改革，全年办理行政复议案件120件。"
_EXAMPLE_VERSION = "demo-6a5318aa01f2"


def _offered_keys(request: Request) -> Iterator[str]:
    """Every key the request offers: Bearer/Token authorization, Basic auth password, X-API-Key."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    value = value.strip()
    if scheme.lower() in ("bearer", "token") and value:
        yield value
    elif scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        _, colon, password = decoded.partition(":")
        if colon and password:
            yield password
    api_key = request.headers.get("x-api-key", "")
    if api_key:
        yield api_key


def require_backend_key(request: Request) -> None:
    """The ``/v1`` key check, also accepting the key as Label Studio can send it (see the module docstring)."""
    key = get_state(request).settings.api_key
    if key is None:
        return
    expected = key.get_secret_value().encode()
    # Constant-time comparison of each offered key: the key is a secret.
    if any(secrets.compare_digest(given.encode(), expected) for given in _offered_keys(request)):
        return
    raise HTTPException(
        status_code=401,
        detail="missing or wrong API key (send `Authorization: Bearer KEY`, or Basic auth with the key as password)",
        headers={"WWW-Authenticate": 'Basic realm="policytag", Bearer'},
    )


_secured = [Depends(require_backend_key)]


class _LSModel(BaseModel):
    # Label Studio adds fields over versions: unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


class BackendHealth(BaseModel):
    status: str = Field(..., description='"UP" once the model is loaded, else "DOWN"')
    model_class: str = Field("policytag", description="what Label Studio shows as the backend's class")
    model: str | None = Field(None, description="the served model's name")
    model_version: str | None = Field(None, description="model name + first 12 hex digits of its data fingerprint")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "UP", "model_class": "policytag", "model": "demo", "model_version": _EXAMPLE_VERSION}
            ]
        }
    )


class SetupRequest(_LSModel):
    project: str | int | None = Field(None, description='Label Studio\'s project uid, "<id>.<created timestamp>"')
    label_schema: str | None = Field(None, alias="schema", description="the project's labelling config (XML)")
    hostname: str | None = Field(None, description="Label Studio's URL")
    access_token: str | None = Field(None, description="a Label Studio token (not used, never logged or stored)")
    extra_params: Any = Field(None, description="the backend's extra parameters in Label Studio")

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "project": "3.1763726400",
                    "schema": _EXAMPLE_CONFIG,
                    "hostname": "http://127.0.0.1:8080",
                    "access_token": "<token>",
                    "extra_params": None,
                }
            ]
        },
    )


class SetupResponse(BaseModel):
    model_version: str

    model_config = ConfigDict(json_schema_extra={"examples": [{"model_version": _EXAMPLE_VERSION}]})


class Task(_LSModel):
    id: int | None = Field(None, description="task id")
    data: dict[str, Any] = Field(default_factory=dict, description="task data; the text is in the config's field")


class PredictRequest(_LSModel):
    tasks: list[Task] = Field(..., description="the tasks to predict, answered in this order")
    project: str | int | None = Field(None, description="project uid")
    label_config: str | None = Field(None, description="the project's labelling config (default: the taxonomy's)")
    params: dict[str, Any] | None = Field(None, description="login, password, context (not used)")

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "tasks": [{"id": 17, "data": {"text": _EXAMPLE_TEXT, "sentence_id": "003:9f1c2e4b7a"}}],
                    "project": "3.1763726400",
                    "label_config": _EXAMPLE_CONFIG,
                    "params": {"login": None, "password": None, "context": None},
                }
            ]
        },
    )


class TaskPrediction(BaseModel):
    result: list[dict[str, Any]] = Field(..., description="one choices result with the model's labels")
    score: float = Field(..., description="the sentence's confidence: 0 on a label's threshold, 1 far from all")
    model_version: str


class PredictResponse(BaseModel):
    results: list[TaskPrediction]
    model_version: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "result": [
                                {
                                    "from_name": "labels",
                                    "to_name": "text",
                                    "type": "choices",
                                    "value": {"choices": ["reconsideration_litigation"]},
                                }
                            ],
                            "score": 0.81,
                            "model_version": _EXAMPLE_VERSION,
                        }
                    ],
                    "model_version": _EXAMPLE_VERSION,
                }
            ]
        }
    )


class WebhookEvent(_LSModel):
    action: str | None = Field(None, description="ANNOTATION_CREATED, START_TRAINING, ...")

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"action": "ANNOTATION_CREATED", "project": {"id": 3}, "task": {"id": 17}, "annotation": {}}]
        },
    )


class WebhookAck(BaseModel):
    status: str = "ok"
    action: str | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "action": "ANNOTATION_CREATED"}]})


@functools.lru_cache(maxsize=64)
def _parse(xml: str) -> ParsedConfig:
    return parse_label_config(xml)


def project_config(xml: str | None, taxonomy: Taxonomy, *, field: str) -> ParsedConfig:
    """The parsed labelling config (the taxonomy's own when none is given); 422 naming ``field`` if unusable."""
    try:
        parsed = _parse(xml if xml and xml.strip() else label_config(taxonomy))
    except ConfigMismatchError as e:
        raise HTTPException(status_code=422, detail={"message": str(e), "field": field}) from None
    if not _choice_map(parsed, taxonomy):
        raise HTTPException(
            status_code=422,
            detail={
                "message": f"none of the config's choices {sorted(parsed.choices)[:20]} is a label of the model "
                f"(ids or Chinese names of {list(taxonomy.ids)})",
                "field": field,
            },
        )
    return parsed


def _choice_map(parsed: ParsedConfig, taxonomy: Taxonomy) -> dict[str, str]:
    """Label id → what the config stores for it: the id itself, or the choice showing the label's Chinese name."""
    by_shown = {shown: stored for stored, shown in parsed.choices.items()}
    out = {}
    for label in taxonomy.labels:
        if label.id in parsed.choices:
            out[label.id] = label.id
        elif label.zh in by_shown:
            out[label.id] = by_shown[label.zh]
    return out


@router.get(
    "/health",
    response_model=BackendHealth,
    responses={503: {"model": BackendHealth, "description": "the model is not loaded yet"}},
    summary="ML backend health (Label Studio)",
)
async def health(request: Request) -> JSONResponse:
    """`{"status": "UP"}` once the model is loaded (503 `DOWN` before); open like `/healthz`."""
    state = get_state(request)
    if state.ready and state.predictor is not None:
        version = model_version(state.predictor.manifest)
        up = BackendHealth(status="UP", model=state.predictor.name, model_version=version)
        return JSONResponse(up.model_dump())
    return JSONResponse(BackendHealth(status="DOWN").model_dump(), status_code=503)


@router.post(
    "/setup",
    response_model=SetupResponse,
    responses=ERRORS,
    dependencies=_secured,
    summary="ML backend setup (Label Studio)",
)
async def setup(body: SetupRequest, state: ReadyState) -> SetupResponse:
    """Check the project's labelling config and answer the model version its predictions carry."""
    assert state.predictor is not None
    if body.label_schema is not None:
        project_config(body.label_schema, state.predictor.taxonomy, field="schema")
    return SetupResponse(model_version=model_version(state.predictor.manifest))


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=ERRORS,
    dependencies=_secured,
    summary="ML backend predictions (Label Studio)",
)
async def predict(body: PredictRequest, state: ReadyState) -> PredictResponse:
    """One prediction per task, in task order: the model's labels as the config's choices, with a confidence."""
    predictor = state.predictor
    assert predictor is not None
    taxonomy = predictor.taxonomy
    parsed = project_config(body.label_config, taxonomy, field="label_config")
    stored = _choice_map(parsed, taxonomy)
    data_field = parsed.data_field or TEXT_NAME
    from_name, to_name = parsed.from_name or CHOICES_NAME, parsed.to_name or TEXT_NAME
    version = model_version(predictor.manifest)
    thresholds = [float(t) for t in predictor.thresholds]

    positions, texts = [], []
    for i, task in enumerate(body.tasks):
        text = task.data.get(data_field)
        if isinstance(text, str) and text.strip():
            positions.append(i)
            texts.append(text)
    # Label Studio sends every task without a prediction of this version in one request: the sentences go
    # to the batcher in slices of the per-request cap, so a large project is predicted, not refused with 413.
    step = state.settings.max_sentences
    answers = []
    for start in range(0, len(texts), step):
        answers += await classify_texts(state, texts[start : start + step], field="tasks")

    results = [TaskPrediction(result=[], score=0.0, model_version=version) for _ in body.tasks]
    for i, answer in zip(positions, answers, strict=True):
        labels = [lab for lab in answer.labels if lab in stored]
        if not parsed.multiple and len(labels) > 1:
            labels = [max(labels, key=lambda lab: answer.scores[lab])]
        payload, _ = prediction_payload(
            [stored[lab] for lab in labels],
            answer.scores,
            thresholds,
            taxonomy.ids,
            version,
            from_name=from_name,
            to_name=to_name,
        )
        results[i] = TaskPrediction(**payload)
    return PredictResponse(results=results, model_version=version)


def _id_of(value: Any) -> int | str | None:
    """The ``id`` of a payload object when it is a plain id (the summary stays small whatever is sent)."""
    found = value.get("id") if isinstance(value, dict) else None
    if isinstance(found, int) and not isinstance(found, bool):
        return found
    return found[:64] if isinstance(found, str) else None


@router.post(
    "/webhook",
    response_model=WebhookAck,
    responses={401: ERRORS[401], 422: ERRORS[422]},
    dependencies=_secured,
    summary="Label Studio events",
)
async def webhook(body: WebhookEvent, request: Request) -> WebhookAck:
    """Counted and summarised at once (Label Studio waits 1 s at most); no training happens here."""
    extra = body.model_extra or {}
    action = body.action or ""
    summary = {
        "action": action[:64],
        "project": _id_of(extra.get("project")),
        "task": _id_of(extra.get("task")),
        "annotation": _id_of(extra.get("annotation")),
        "received_at": time.time(),
    }
    get_state(request).metrics.record_labelstudio_event(action, summary)
    return WebhookAck(action=body.action)
