"""Liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from policytag.serving.api.deps import get_state
from policytag.serving.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness", response_model=Health)
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 once the model is loaded and warmed up; 503 before that and while shutting down."""
    state = get_state(request)
    if (ready := state.ready) is not None:
        return JSONResponse(Readiness(status="ready", model=ready.info.get("name")).model_dump())
    reason = "shutting down" if state.draining else "loading"
    return JSONResponse(Readiness(status=reason).model_dump(), status_code=503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    state = get_state(request)
    if state.loaded is not None:
        state.metrics.queue_depth.set(state.loaded.batcher.depth)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
