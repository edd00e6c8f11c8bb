"""Request and response models of the HTTP API (each with an example for /docs)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from policytag.training.numerics.names import Numerics, NumericsRequest

__all__ = [
    "ClassifyRequest",
    "ClassifyResponse",
    "DocumentRequest",
    "DocumentResponse",
    "ErrorResponse",
    "Health",
    "LabelInfo",
    "ModelInfo",
    "ModelRef",
    "Readiness",
    "SentenceResult",
    "TaggedSentence",
]

_EXAMPLE = "持续深化行政复议体制改革，全年办理行政复议案件120件。"
_SCORES_EXAMPLE: Any = {"reconsideration_litigation": 0.94, "other": 0.03}


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or whitespace only")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifyRequest(_Strict):
    sentences: list[Annotated[str, StringConstraints(strict=True)]] = Field(
        ..., min_length=1, description="sentences to classify, each on its own"
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sentences": [_EXAMPLE]}]})

    @field_validator("sentences")
    @classmethod
    def _sentences_not_blank(cls, v: list[str]) -> list[str]:
        for i, s in enumerate(v):
            if not s.strip():
                raise ValueError(f"sentences[{i}] is empty or whitespace only")
        return v


class ModelRef(BaseModel):
    name: str
    version: str


class SentenceResult(BaseModel):
    text: str
    labels: list[str] = Field(..., description="label ids; 'other' alone when no category passes its threshold")
    scores: dict[str, float] = Field(..., description="probability of every label")
    truncated: bool = Field(False, description="the sentence was longer than the model reads and was cut")


class ClassifyResponse(BaseModel):
    model: ModelRef
    results: list[SentenceResult]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": {"name": "demo", "version": "202611211200-6a5318aa"},
                    "results": [
                        {
                            "text": _EXAMPLE,
                            "labels": ["reconsideration_litigation"],
                            "scores": _SCORES_EXAMPLE,
                            "truncated": False,
                        }
                    ],
                }
            ]
        }
    )


class DocumentRequest(_Strict):
    text: Annotated[str, StringConstraints(strict=True)] = Field(..., description="the document's plain text")
    id: str | None = Field(None, max_length=200, description="your id for the document, echoed back")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "一、深化行政复议体制改革\n全年办理行政复议案件120件。", "id": "report-1"}]
        },
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, v: str) -> str:
        return _not_blank(v)


class TaggedSentence(BaseModel):
    index: int
    start: int = Field(..., description="character offset of the sentence in the given text")
    end: int
    text: str
    labels: list[str]
    scores: dict[str, float]
    truncated: bool = False


class DocumentSummary(BaseModel):
    counts: dict[str, int] = Field(..., description="sentences carrying each label")
    share: dict[str, float] = Field(..., description="counts divided by the number of sentences")


class DocumentResponse(BaseModel):
    id: str | None
    model: ModelRef
    sentences: list[TaggedSentence]
    summary: DocumentSummary

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "report-1",
                    "model": {"name": "demo", "version": "202611211200-6a5318aa"},
                    "sentences": [
                        {
                            "index": 0,
                            "start": 0,
                            "end": 12,
                            "text": "一、深化行政复议体制改革",
                            "labels": ["reconsideration_litigation"],
                            "scores": _SCORES_EXAMPLE,
                            "truncated": False,
                        }
                    ],
                    "summary": {
                        "counts": {"reconsideration_litigation": 1},
                        "share": {"reconsideration_litigation": 1.0},
                    },
                }
            ]
        }
    )


class LabelInfo(BaseModel):
    id: str
    zh: str
    en: str
    description: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "legal_aid",
                    "zh": "法律援助",
                    "en": "Legal aid",
                    "description": "legal aid: 法律援助案件/机构/律师",
                }
            ]
        }
    )


class NumericsInfo(BaseModel):
    requested: NumericsRequest = Field(description="what the server was asked for")
    used: Numerics = Field(description="what the model runs in")
    reason: str = Field(description="why those numerics")
    probe_speedup: dict[str, float] = Field(
        default_factory=dict,
        description="auto: each candidate's speed relative to fp32 (1.0) on the load-time probe, one encoder layer",
    )
    qualified: list[str] = Field(default_factory=list, description="auto: the paths the accuracy guard admits")
    int8_engine: str | None = Field(None, description="torch's quantized engine when int8 runs")


class ModelInfo(BaseModel):
    name: str
    version: str
    kind: str
    base_model: dict[str, object]
    data_fingerprint: str
    max_length: int
    thresholds: dict[str, float]
    metrics: dict[str, object]
    numerics: NumericsInfo = Field(description="the inference numerics the model runs in, and why")
    precision: NumericsInfo | None = Field(
        None,
        deprecated="the old name of `numerics`, with the same value; removed in the next release",
        description="deprecated: the old name of `numerics` (same value), kept for one release",
    )
    created_at: str | None = None

    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "name": "demo",
                    "version": "202611211200-6a5318aa",
                    "kind": "bert",
                    "base_model": {"kind": "scratch", "name": "scratch-mini", "description": "scratch-mini BERT ..."},
                    "data_fingerprint": "6a5318aa3fead2d2...",
                    "max_length": 128,
                    "thresholds": {"legal_aid": 0.42, "other": 0.5},
                    "metrics": {"validation": {"macro_f1": 0.61, "micro_f1": 0.64}},
                    "numerics": {
                        "requested": "auto",
                        "used": "int8",
                        "reason": "fastest of the paths that passed the accuracy guard (bf16, int8) on this machine",
                        "probe_speedup": {"fp32": 1.0, "bf16": 4.35, "int8": 4.77},
                        "qualified": ["bf16", "int8"],
                        "int8_engine": "onednn",
                    },
                    "created_at": "2026-11-21T12:00:00+00:00",
                }
            ]
        },
    )


class Health(BaseModel):
    status: str = Field(..., examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(..., description="'ready', 'loading' or 'shutting down'", examples=["ready"])
    model: str | None = Field(None, examples=["demo"])


class ErrorBody(BaseModel):
    code: int = Field(..., examples=[422])
    message: str = Field(..., examples=["body.sentences: Value error, sentences[1] is empty or whitespace only"])
    field: str | None = Field(None, examples=["body.sentences"])


class ErrorResponse(BaseModel):
    error: ErrorBody
