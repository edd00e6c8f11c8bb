"""The request and response bodies of Label Studio's ML-backend protocol (``/labelstudio``), with examples.

Shaped as Label Studio 1.23 sends and reads them; unknown request fields are ignored, not refused, because
Label Studio adds fields over versions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BackendHealth",
    "PredictRequest",
    "PredictResponse",
    "SetupRequest",
    "SetupResponse",
    "Task",
    "TaskPrediction",
    "WebhookAck",
    "WebhookEvent",
]

_EXAMPLE_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="labels" toName="text" choice="multiple">'
    '<Choice value="行政复议与应诉" alias="reconsideration_litigation"/><Choice value="其他" alias="other"/>'
    "</Choices></View>"
)
_EXAMPLE_TEXT = "持续深化行政复议体制改革，全年办理行政复议案件120件。"
_EXAMPLE_VERSION = "demo-6a5318aa01f2"


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
