"""A pure-ASGI guard on request size: counts the bytes as they stream in, never trusting Content-Length.

A body over the cap is answered 413 only after the rest of it has been read and thrown away, up to
``drain_bytes`` and ``drain_seconds`` (the lingering close nginx does). A server that answers and closes
while the client is still sending makes the kernel reset the connection: a client that sends the whole
body before it reads (Python's ``urllib``, most simple scripts) then sees ``Connection reset by peer``
instead of the 413. Past either bound the answer goes out anyway (the server then closes the connection).
"""

from __future__ import annotations

import asyncio

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
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, drain_bytes: int = 64_000_000, drain_seconds: float = 10.0
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        if drain_bytes < 0 or drain_seconds < 0:
            raise ValueError(f"drain_bytes and drain_seconds must not be negative, not {drain_bytes}, {drain_seconds}")
        super().__init__(app)
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # drained here, before anyone answers: the 413 may come from the app's own error handler
                    if message.get("more_body", False):
                        await self._drain(receive)
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

    async def _drain(self, receive: Receive) -> bool:
        """Read and discard the rest of the body within the bounds; True when it was all read."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_seconds
        left = self.drain_bytes
        while left >= 0:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                return False
            if message["type"] != "http.request":  # the client went away
                return False
            left -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return left >= 0
        return False
