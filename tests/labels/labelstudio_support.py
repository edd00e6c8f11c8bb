"""Shared by the real-server Label Studio tests: install Label Studio once, or skip loudly."""

from __future__ import annotations

import sys

import pytest

from policytag.labels.labelstudio import server as ls_server


def require_label_studio(what: str) -> None:
    """Install Label Studio into .venv-ls if needed; where it cannot be installed, skip ``what`` with a banner."""
    try:
        ls_server.ensure_installed()
    except ls_server.ServerError as e:
        banner = "!" * 78
        msg = f"Label Studio {ls_server.LS_VERSION} cannot be installed: {what} are SKIPPED\n{e}"
        print(f"\n{banner}\n{msg}\n{banner}", file=sys.stderr)
        pytest.skip(msg)
