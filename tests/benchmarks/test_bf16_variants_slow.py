from __future__ import annotations

import pytest
import torch

from policytag.training.numerics.cpu import unavailable_reason
from tests.support.benchmarks import run_benchmark


@pytest.mark.slow
def test_bf16_variants_times_all_three_on_the_same_sentences() -> None:
    if (why := unavailable_reason("bf16", torch.device("cpu"))) is not None:
        pytest.skip(why)
    report = run_benchmark("bf16_variants.py", "--sentences", "16", "--rounds", "1", timeout=900)
    assert report["sentences"] == 16 and report["compile_s"] > 0
    speeds = report["sentences_per_s"]
    assert set(speeds) == {"cast (the kit's bf16)", "autocast", "compiled"}
    assert all(v["median"] > 0 and v["best"] >= v["median"] for v in speeds.values())
    assert speeds["cast (the kit's bf16)"]["median_vs_cast"] == 1.0
