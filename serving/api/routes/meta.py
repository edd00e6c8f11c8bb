"""``GET /v1/labels`` (the taxonomy) and ``GET /v1/model`` (the served model, its numerics)."""

from __future__ import annotations

from fastapi import APIRouter

from policytag.serving.api.deps import ReadyState
from policytag.serving.api.schemas import LabelInfo, ModelInfo

router = APIRouter(tags=["model"])


@router.get("/v1/labels", response_model=list[LabelInfo], summary="The taxonomy")
async def labels(state: ReadyState) -> list[LabelInfo]:
    """The labels the served model answers with, in order, with Chinese and English names."""
    return [LabelInfo(id=x.id, zh=x.zh, en=x.en, description=x.description) for x in state.predictor.taxonomy.labels]


@router.get("/v1/model", response_model=ModelInfo, summary="The served model")
async def model(state: ReadyState) -> ModelInfo:
    """Base model as recorded at training, training-data fingerprint, metrics and thresholds."""
    return ModelInfo(**state.info)
