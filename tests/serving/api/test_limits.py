"""The body-size guard in isolation: what it reads of an oversized body before the 413 (ASGI, no server)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from policytag.serving.api.limits import BodySizeLimit

CHUNK = b"x" * 1000


class Client:
    """Sends ``chunks`` body messages of 1,000 bytes, then (if asked) waits forever, as a stalled client."""

    def __init__(self, chunks: int, *, stall: bool = False) -> None:
        self.left, self.stall, self.sent = chunks, stall, 0
        self.answer: list[Message] = []

    async def receive(self) -> Message:
        if self.left == 0:
            if self.stall:
                await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        self.left -= 1
        self.sent += 1
        more = self.left > 0 or self.stall
        return {"type": "http.request", "body": CHUNK, "more_body": more}

    async def send(self, message: Message) -> None:
        self.answer.append(message)

    def status(self) -> int:
        return int(self.answer[0]["status"])

    def body(self) -> dict[str, Any]:
        return dict(json.loads(b"".join(m.get("body", b"") for m in self.answer[1:])))


async def reads_all(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads the whole body, then answers 200 (it never gets to when the body is too large)."""
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _run(client: Client, **limits: Any) -> None:
    app = BodySizeLimit(reads_all, **limits)
    scope = {"type": "http", "method": "POST", "path": "/v1/documents", "headers": []}
    asyncio.run(app(scope, client.receive, client.send))


def test_the_rest_of_an_oversized_body_is_read_before_the_413() -> None:
    client = Client(50)
    _run(client, max_bytes=5_000)
    assert client.status() == 413 and client.sent == 50 and client.left == 0
    assert "5000 bytes" in json.dumps(client.body())


def test_draining_stops_at_its_byte_bound() -> None:
    client = Client(50)
    _run(client, max_bytes=5_000, drain_bytes=10_000)
    assert client.status() == 413
    assert 6 + 10 <= client.sent < 50  # the 6 chunks that passed the cap, the bound's 10, and no more than one over


def test_draining_stops_at_its_time_bound() -> None:
    client = Client(8, stall=True)
    start = time.monotonic()
    _run(client, max_bytes=5_000, drain_seconds=0.2)
    assert client.status() == 413 and client.sent == 8
    assert time.monotonic() - start < 5  # not the stalled client's hour


def test_a_body_within_the_cap_reaches_the_app() -> None:
    client = Client(5)
    _run(client, max_bytes=5_000)
    assert client.status() == 200 and client.sent == 5


@pytest.mark.parametrize(
    "bad", [{"max_bytes": 0}, {"max_bytes": 10, "drain_bytes": -1}, {"max_bytes": 10, "drain_seconds": -1}]
)
def test_bad_bounds_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"max_bytes|drain"):
        BodySizeLimit(reads_all, **bad)
