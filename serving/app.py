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
from collections.abc import AsyncIterator, Callable

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from policytag.core.version import __version__
from policytag.serving.api.deps import require_api_key
from policytag.serving.api.errors import add_error_handlers
from policytag.serving.api.limits import BodySizeLimit
from policytag.serving.api.middleware import RequestMetrics
from policytag.serving.api.routes import classify, documents, health, labelstudio, meta, page
from policytag.serving.core.batcher import MicroBatcher
from policytag.serving.core.config import Settings
from policytag.serving.core.state import AppState, Ready, model_info
from policytag.training.predictor import load_predictor

__all__ = ["create_app"]

log = logging.getLogger("policytag.serving")


async def _load_model(state: AppState) -> None:
    """Load, describe and warm up the model off the event loop, start its batcher, then declare readiness."""
    cfg = state.settings
    try:
        predictor = await asyncio.to_thread(
            load_predictor,
            cfg.model_path,
            device=cfg.device,
            numerics=cfg.numerics,
            token_budget=cfg.token_budget,
            shape_buckets=cfg.shape_buckets,
        )
        info = await asyncio.to_thread(model_info, cfg.model_path, predictor)
        if cfg.warmup:
            passes = await asyncio.to_thread(predictor.warm_up)
            log.info("warmed up: %d forward passes", passes)
        # No await from here on: the batcher is started and published together, never half-way when cancelled.
        batcher = MicroBatcher(
            predictor,
            max_batch_size=cfg.max_batch_size,
            max_wait_ms=cfg.max_wait_ms,
            max_queue=cfg.max_queue,
            metrics=state.metrics,
        )
        batcher.start()
        state.loaded = Ready(settings=cfg, predictor=predictor, batcher=batcher, info=info)
        numerics = predictor.numerics_info
        state.metrics.record_numerics(numerics)
        log.info(
            "model %s %s loaded from %s; numerics %s -> %s (%s); ready",
            predictor.name,
            predictor.version,
            cfg.model_path,
            numerics["requested"],
            numerics["used"],
            numerics["reason"],
        )
    except Exception:
        log.exception("could not load the model from %s", cfg.model_path)
        raise


def _lifespan(state: AppState) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Start-up loads the model in the background (the app answers /healthz and /readyz meanwhile);
    shutdown turns readiness off, stops a load still running and lets the batcher finish what it holds."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(_load_model(state), name="policytag-load-model")
        try:
            yield
        finally:
            state.drain()
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loader
            if state.loaded is not None:
                await state.loaded.batcher.close()

    return lifespan


def _add_routes(app: FastAPI) -> None:
    secured = [Depends(require_api_key)]
    app.include_router(classify.router, dependencies=secured)
    app.include_router(documents.router, dependencies=secured)
    app.include_router(meta.router, dependencies=secured)
    app.include_router(health.router)
    # Label Studio's ML backend protocol; setup/predict/webhook check the key themselves (Basic auth too).
    app.include_router(labelstudio.router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")


def _add_middleware(app: FastAPI, state: AppState) -> None:
    # Added innermost first: metrics see every request, including those the size guard or CORS answer.
    cfg = state.settings
    if cfg.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cfg.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    app.add_middleware(
        BodySizeLimit, max_bytes=cfg.max_body_bytes, drain_bytes=cfg.drain_bytes, drain_seconds=cfg.drain_seconds
    )
    app.add_middleware(RequestMetrics, metrics=state.metrics)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the model is loaded after start-up, and /readyz answers 503 until it is warmed up."""
    state = AppState(settings=settings or Settings())
    app = FastAPI(
        title="policytag",
        version=__version__,
        summary="Tag Chinese rule-of-law report sentences by policy category (multi-label).",
        lifespan=_lifespan(state),
    )
    app.state.policytag = state
    add_error_handlers(app)
    _add_routes(app)
    _add_middleware(app, state)
    return app
