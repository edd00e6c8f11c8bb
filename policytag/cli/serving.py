"""``policytag serve``: run the API with uvicorn, turning readiness off first on SIGTERM."""

from __future__ import annotations

import argparse
import logging
from typing import Any, get_args

from policytag.cli.options import add_command, numerics_option
from policytag.serving.core.config import Settings

__all__ = ["register"]


def register(sub: Any) -> None:
    s = add_command(sub, "serve", cmd_serve)
    s.add_argument("--model", default=None, help="model folder (default: POLICYTAG_MODEL_PATH or models/demo)")
    s.add_argument("--host", default=None, help="address to bind (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: 8000)")
    numerics_option(
        s,
        get_args(Settings.model_fields["numerics"].annotation),
        default=None,
        help="inference numerics (default: POLICYTAG_NUMERICS or auto: the fastest path whose accuracy guard "
        "holds; /v1/model reports the choice)",
    )
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def cmd_serve(args: argparse.Namespace) -> int:
    """serve a model over HTTP (FastAPI)

    Serve a model folder: POST /v1/classify, /v1/documents, /v1/documents/file; GET /v1/labels, /v1/model,
    /healthz, /readyz, /metrics; OpenAPI at /docs. Limits and the API key come from POLICYTAG_* environment
    variables (see README).
    """
    import uvicorn

    from policytag.serving.app import create_app
    from policytag.training.model_folder import read_manifest

    given = {"model_path": args.model, "host": args.host, "port": args.port, "numerics": args.numerics}
    overrides = {k: v for k, v in given.items() if v}
    settings = Settings(**overrides)
    read_manifest(settings.model_path)  # a bad folder fails here, with its name, not inside the server
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    state = app.state.policytag

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # Readiness goes 503 before uvicorn stops accepting; in-flight requests then finish.
            state.drain()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=args.log_level, timeout_graceful_shutdown=30
    )
    print(f"serving {settings.model_path} on http://{settings.host}:{settings.port} (docs: /docs)", flush=True)
    Server(config).run()
    return 0
