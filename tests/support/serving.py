"""Servers for the API tests: the app in process (``make_client``) and ``policytag serve`` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from policytag.serving.app import create_app
from policytag.serving.core.config import Settings
from policytag.serving.demo import free_port, wait_ready
from tests.support.paths import ROOT

__all__ = ["live_server", "make_client"]


@contextmanager
def make_client(model: Path, **settings: object) -> Iterator[TestClient]:
    """The app in process with its lifespan run, once the model is ready."""
    # fp32 unless a test asks otherwise: tests compare the API with an in-process fp32 predictor.
    settings.setdefault("numerics", "fp32")
    app = create_app(Settings(model_path=str(model), **settings))  # type: ignore[arg-type]
    with TestClient(app) as client:
        wait_ready(client, timeout=60)
        yield client


@contextmanager
def live_server(model: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`policytag serve` in a subprocess on a free loopback port; SIGTERM on exit."""
    port = free_port()
    env.setdefault("numerics", "fp32")  # as in make_client
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
            wait_ready(c, timeout=60)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
