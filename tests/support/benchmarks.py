"""Running a benchmark script as a user would, for the tests of its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.support.paths import ROOT


def run_benchmark(script: str, *args: str, timeout: float) -> dict[str, Any]:
    """``python -m benchmarks.<script's stem> <args>`` from the repository root; its JSON report (stdout).

    As a module, as the benchmarks' docstrings say to run them: some import ``benchmarks.serve_bench``.
    """
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{script.removesuffix('.py')}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return dict(json.loads(proc.stdout))
