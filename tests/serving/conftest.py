from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from policytag.serving.app import create_app
from policytag.serving.core.config import Settings
from policytag.training.train import TrainResult
from tests.conftest import ROOT


def wait_ready(client: TestClient | httpx.Client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError("the server did not become ready")


@contextmanager
def make_client(model: Path, **settings: object) -> Iterator[TestClient]:
    # fp32 unless a test asks otherwise: tests compare the API with an in-process fp32 predictor.
    settings.setdefault("precision", "fp32")
    app = create_app(Settings(model_path=str(model), **settings))  # type: ignore[arg-type]
    with TestClient(app) as client:
        wait_ready(client)
        yield client


@pytest.fixture(scope="module")
def client(tiny_model: TrainResult) -> Iterator[TestClient]:
    with make_client(tiny_model.folder, max_sentences=64, max_body_bytes=200_000) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(model: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`policytag serve` in a subprocess on a free loopback port; SIGTERM on exit."""
    port = free_port()
    env.setdefault("precision", "fp32")  # as in make_client
    full_env = {**os.environ, **{f"POLICYTAG_{k.upper()}": v for k, v in env.items()}}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policytag",
            "serve",
            "--model",
            str(model),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            wait_ready(c)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
