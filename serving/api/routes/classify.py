"""``POST /v1/classify``: label sentences the client has already split."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from policytag.serving.api.deps import ReadyState
from policytag.serving.api.schemas import ClassifyRequest, ClassifyResponse, ErrorResponse, ModelRef, SentenceResult
from policytag.serving.core.batcher import QueueFull

router = APIRouter(tags=["classify"])

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "missing or wrong API key"},
    413: {"model": ErrorResponse, "description": "body or sentence count over the limit"},
    422: {"model": ErrorResponse, "description": "malformed request (the field is named)"},
    429: {"model": ErrorResponse, "description": "queue full; retry after Retry-After seconds"},
    503: {"model": ErrorResponse, "description": "model not ready"},
}


async def classify_texts(state: ReadyState, texts: list[str], *, field: str) -> list[SentenceResult]:
    """Run ``texts`` through the batcher, enforcing the per-request cap; shared by every tagging route."""
    limit = state.settings.max_sentences
    if len(texts) > limit:
        raise HTTPException(
            status_code=413, detail={"message": f"{len(texts)} sentences, limit {limit}", "field": field}
        )
    try:
        preds = await state.batcher.submit(texts)
    except QueueFull as e:
        raise HTTPException(
            status_code=429, detail=str(e), headers={"Retry-After": str(state.settings.retry_after_s)}
        ) from None
    return [
        SentenceResult(text=t, labels=p.labels, scores=p.scores, truncated=p.truncated)
        for t, p in zip(texts, preds, strict=True)
    ]


@router.post("/v1/classify", response_model=ClassifyResponse, responses=ERRORS, summary="Classify sentences")
async def classify(body: ClassifyRequest, state: ReadyState) -> ClassifyResponse:
    """Each sentence gets the label ids whose probability passes the model's per-label threshold, or `other`."""
    results = await classify_texts(state, body.sentences, field="sentences")
    return ClassifyResponse(model=ModelRef(name=state.predictor.name, version=state.predictor.version), results=results)
