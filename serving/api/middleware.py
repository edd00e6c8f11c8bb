"""Pure-ASGI middleware pieces: an HTTP-only base, a ``send`` that remembers the status, request metrics.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``: the body-size guard must see the body as it streams
in, and neither may buffer a response.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policytag.serving.core.metrics import Metrics

__all__ = ["HttpMiddleware", "RequestMetrics", "StatusWatch"]


class StatusWatch:
    """Wraps ``send``: passes every message on and remembers the status once the response starts (None before)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)


class HttpMiddleware(ABC):
    """A middleware for HTTP requests; other scopes (lifespan, websockets) pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request through ``self.app``."""


class RequestMetrics(HttpMiddleware):
    """Counts requests by route template, method and status, and times them."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        watch = StatusWatch(send)
        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, watch)
        finally:
            # The route is known once routing ran; a request that never reached one is "unmatched".
            path = getattr(scope.get("route"), "path", None) or "unmatched"
            status = 500 if watch.status is None else watch.status  # no response started: the app failed
            m = self.metrics
            m.requests.labels(route=path, method=scope.get("method", ""), status=str(status)).inc()
            m.latency.labels(route=path).observe(time.perf_counter() - t0)
