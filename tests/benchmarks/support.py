"""Running a benchmark script as a user would, for the tests of its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import ROOT


def run_benchmark(script: str, *args: str, timeout: float) -> dict[str, Any]:
    """``python benchmarks/<script> <args>`` from the repository root; its JSON report (stdout)."""
    proc = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return dict(json.loads(proc.stdout))
