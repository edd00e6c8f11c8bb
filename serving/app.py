"""The FastAPI app: ``create_app(settings)`` for uvicorn or gunicorn, ``policytag serve`` for a quick start.

Example:
    >>> from policytag.serving.core.config import Settings
    >>> app = create_app(Settings(model_path="models/demo"))  # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policytag.core.version import __version__
from policytag.serving.api.deps import require_api_key
from policytag.serving.api.limits import BodySizeLimit
from policytag.serving.api.routes import classify, documents, health, labelstudio, meta, page
from policytag.serving.core.batcher import MicroBatcher
from policytag.serving.core.config import Settings
from policytag.serving.core.state import AppState, model_info
from policytag.training.predictor import load_predictor

__all__ = ["create_app"]

log = logging.getLogger("policytag.serving")


class _MetricsMiddleware:
    """Counts requests by route template and status, and times them."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            m = self.state.metrics
            m.requests.labels(route=path, method=scope.get("method", ""), status=str(status)).inc()
            m.latency.labels(route=path).observe(time.perf_counter() - t0)


def _error(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "field": field}}, status, headers=headers)


def _field(loc: Any) -> str:
    return ".".join(str(x) for x in loc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    message, field = (
        (detail.get("message", ""), detail.get("field")) if isinstance(detail, dict) else (str(detail), None)
    )
    return _error(exc.status_code, message, field, headers=dict(exc.headers or {}))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = _field(first.get("loc", ()))
    parts = [f"{_field(e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5]]
    body = {"error": {"code": 422, "message": "; ".join(parts), "field": field}}
    return JSONResponse(body, 422)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the model is loaded after start-up, and /readyz answers 503 until it is warmed up."""
    cfg = settings or Settings()
    state = AppState(settings=cfg)

    async def load() -> None:
        try:
            predictor = await asyncio.to_thread(
                load_predictor,
                cfg.model_path,
                device=cfg.device,
                precision=cfg.precision,
                token_budget=cfg.token_budget,
            )
            info = await asyncio.to_thread(model_info, cfg.model_path, predictor)
            if cfg.warmup:
                await asyncio.to_thread(predictor.predict, ["法治政府建设。", "预热"])
            state.predictor, state.info = predictor, info
            state.batcher = MicroBatcher(
                predictor,
                max_batch_size=cfg.max_batch_size,
                max_wait_ms=cfg.max_wait_ms,
                max_queue=cfg.max_queue,
                metrics=state.metrics,
            )
            state.batcher.start()
            state.ready = True
            precision = predictor.precision_info
            log.info(
                "model %s %s loaded from %s; precision %s -> %s (%s); ready",
                predictor.name,
                predictor.version,
                cfg.model_path,
                precision["requested"],
                precision["used"],
                precision["reason"],
            )
        except Exception:
            log.exception("could not load the model from %s", cfg.model_path)
            raise

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(load(), name="policytag-load-model")
        try:
            yield
        finally:
            state.ready = False
            state.draining = True
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loader
            if state.batcher is not None:
                await state.batcher.close()

    app = FastAPI(
        title="policytag",
        version=__version__,
        summary="Tag Chinese rule-of-law report sentences by policy category (multi-label).",
        lifespan=lifespan,
    )
    app.state.policytag = state
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    secured = [Depends(require_api_key)]
    app.include_router(classify.router, dependencies=secured)
    app.include_router(documents.router, dependencies=secured)
    app.include_router(meta.router, dependencies=secured)
    app.include_router(health.router)
    # Label Studio's ML backend protocol; setup/predict/webhook check the key themselves (Basic auth too).
    app.include_router(labelstudio.router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    if cfg.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cfg.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=cfg.max_body_bytes)
    app.add_middleware(_MetricsMiddleware, state=state)
    return app
