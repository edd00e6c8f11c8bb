from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_reports_every_path() -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/serve_bench.py", "--quick", "--sentences", "32", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    report = json.loads(proc.stdout)
    for name in ("naive", "fp32", "auto", "served"):
        path = report["paths"][name]
        assert path["sentences_per_s"] > 0 and path["p50_ms"] <= path["p95_ms"] and path["peak_rss_mib"] > 0
        assert path["fraction_of_ceiling"] > 0
    assert report["paths"]["naive"]["vs_naive"] == 1.0
    assert report["served_vs_naive"] == report["paths"]["served"]["vs_naive"]
    assert report["ceiling"]["int8"]["sentences_per_s"] > 0 and report["server_memory_mib"]["auto"]["peak_rss_mib"] > 0
