"""Shared by the real-server Label Studio tests: install Label Studio once, or skip loudly."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from policytag.labels.labelstudio import server as ls_server
from tests.support.paths import ROOT

INSTALLER = ROOT / "scripts" / "install_labelstudio.py"


def require_label_studio(what: str) -> None:
    """Install Label Studio with the kit's installer if needed; where it cannot be installed, skip ``what`` loudly."""
    try:
        ls_server.label_studio_executable()
        return
    except ls_server.ServerError:
        pass
    proc = subprocess.run([sys.executable, str(INSTALLER)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        banner = "!" * 78
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        msg = f"Label Studio {ls_server.LS_VERSION} cannot be installed: {what} are SKIPPED\n{tail}"
        print(f"\n{banner}\n{msg}\n{banner}", file=sys.stderr)
        pytest.skip(msg)


def annotation_record(sid: str, annotator: str, labels: list[str], aid: int, updated: str, **kw: Any) -> dict[str, Any]:
    """One record of the annotation log, as ``pull`` writes it."""
    return {
        "sentence_id": sid,
        "text": f"text of {sid}",
        "doc": "d",
        "labels": labels,
        "annotator": annotator,
        "annotation_id": aid,
        "updated_at": updated,
        "was_cancelled": False,
        "problem": None,
        **kw,
    }
