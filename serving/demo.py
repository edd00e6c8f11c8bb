"""``python -m policytag.serving.demo``: start the API on a free loopback port, tag one document through it, stop.

Used by ``make demo`` to show the server end to end; ``policytag serve`` is the way to run it for real.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import uvicorn

from policytag.serving.app import create_app
from policytag.serving.core.config import Settings

__all__ = ["free_port", "running_server", "wait_ready"]


class _Client(Protocol):
    """An HTTP client with a base URL (``httpx.Client``, Starlette's ``TestClient``)."""

    def get(self, url: str) -> Any: ...


def free_port() -> int:
    """A loopback port free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(client: _Client, *, timeout: float, what: str = "the server") -> None:
    """Poll ``/readyz`` until it answers 200 (the model is loaded); ``TimeoutError`` after ``timeout`` seconds.

    A server still starting (connection refused) counts as not ready yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not become ready")


@contextlib.contextmanager
def running_server(model: str) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, ready; yields its base URL and stops it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(model_path=model)), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            wait_ready(c, timeout=120, what=f"the server for {model}")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", default="models/demo", help="model folder (default: %(default)s)")
    ap.add_argument("document", help="a .txt/.md/.html document to upload")
    args = ap.parse_args()
    with running_server(args.model) as base, httpx.Client(base_url=base, timeout=60) as c:
        path = Path(args.document)
        r = c.post("/v1/documents/file", files={"file": (path.name, path.read_bytes())})
        r.raise_for_status()
        body = r.json()
        names = {x["id"]: x["zh"] for x in c.get("/v1/labels").json()}
    print(
        f"POST {base}/v1/documents/file ({path.name}) -> {len(body['sentences'])} sentences, "
        f"model {body['model']['name']} {body['model']['version']}"
    )
    for s in body["sentences"][:15]:
        print(f"  [{'、'.join(names[i] for i in s['labels'])}] {s['text'][:60]}")
    if len(body["sentences"]) > 15:
        print(f"  ... {len(body['sentences']) - 15} more")
    counts = Counter(body["summary"]["counts"])
    share = body["summary"]["share"]
    print("summary: " + "  ".join(f"{names[k]} {v} ({share[k]:.0%})" for k, v in counts.most_common()))
    print(f"start the server yourself with: policytag serve --model {args.model}")
    print("then open the tagging page at http://127.0.0.1:8000/ (API docs at http://127.0.0.1:8000/docs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
