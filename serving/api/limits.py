"""A pure-ASGI guard on request size: counts the bytes as they stream in, never trusting Content-Length."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policytag.serving.api.errors import error_response
from policytag.serving.api.middleware import HttpMiddleware, StatusWatch

__all__ = ["BodySizeLimit", "BodyTooLarge"]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the cap; an HTTPException so FastAPI's body parsing re-raises it
    (it turns other exceptions into 400) and the app's error handler answers 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"request body over {max_bytes} bytes")


class BodySizeLimit(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        watch = StatusWatch(send)
        try:
            await self.app(scope, limited_receive, watch)
        except BodyTooLarge:
            if watch.status is not None:  # too late to answer: the handler already replied
                return
            answer = error_response(413, f"request body over {self.max_bytes} bytes", "body")
            await answer(scope, receive, send)
