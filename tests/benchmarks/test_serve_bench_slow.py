from __future__ import annotations

import pytest

from tests.support.benchmarks import run_benchmark


@pytest.mark.slow
def test_quick_benchmark_reports_every_path() -> None:
    report = run_benchmark("serve_bench.py", "--quick", "--sentences", "32", "--rounds", "1", timeout=600)
    for name in ("naive", "fp32", "auto", "served"):
        path = report["paths"][name]
        assert path["sentences_per_s"] > 0 and path["p50_ms"] <= path["p95_ms"] and path["peak_rss_mib"] > 0
        assert path["fraction_of_ceiling"] > 0
    for name in ("fp32", "auto"):
        path = report["paths"][name]
        assert set(path["ms_per_sentence"]) == {"matmul", "attention", "other"}
        assert path["ms_per_sentence"]["matmul"] > 0 and path["ms_per_sentence"]["attention"] > 0
        assert 0 < path["fraction_of_ceiling_with_matmuls_at_ceiling"] < 1
    # The server's model was busy for most of the load test, and never for longer than it lasted.
    assert 0.5 < report["paths"]["served"]["model_busy_share"] <= 1.0
    assert report["paths"]["naive"]["vs_naive"] == 1.0
    assert report["served_vs_naive"] == report["paths"]["served"]["vs_naive"]
    assert all(isinstance(report["ceiling"][p]["new_shape_extra_ms"], float) for p in ("fp32", "int8"))
    assert report["ceiling"]["int8"]["sentences_per_s"] > 0 and report["servers"]["auto"]["peak_rss_mib_under_load"] > 0
