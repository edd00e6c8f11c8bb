"""Two ways to run bf16 that the kit does not use, timed against the one it does, as JSON.

The kit's bf16 path casts the weights once (``model.to(torch.bfloat16)``, eager). The alternatives:

* ``autocast``: the fp32 model under ``torch.autocast("cpu", dtype=torch.bfloat16)``, which casts
  the weights again on every call;
* ``compiled``: the kit's bf16 model through ``torch.compile`` (inductor, ``dynamic=True``,
  ``freezing`` so that the linear weights are pre-packed and elementwise work is fused).

All three run the kit's predictor on the seed sentences (128 per call, as ``serve_bench.py``
does), on a random-weight model of the scratch-base shape, in one process. The variants take
turns for ``--rounds`` rounds and the JSON gives each one's median and best: this VM's speed
drifts, and turns spread the drift over all three alike. CPUs with native bf16 only.

    python benchmarks/bf16_variants.py            # about 3 minutes on 2 cores, most of it compiling
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
import typing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root holds the benchmarks package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5, help="turns each variant gets (default: 5)")
    ap.add_argument("--sentences", type=int, default=None, help="time the first N seed sentences (default: all 449)")
    args = ap.parse_args(argv)

    import torch

    from benchmarks.serve_bench import build_bench_model, machine, seed_sentences
    from policytag.training.bert_predictor import BertPredictor
    from policytag.training.precision import unavailable_reason
    from policytag.training.predictor import load_predictor

    why = unavailable_reason("bf16", torch.device("cpu"))
    if why is not None:
        raise SystemExit(f"bf16: {why}")
    texts = seed_sentences(args.sentences)
    with tempfile.TemporaryDirectory(prefix="policytag-bf16-") as work:
        folder = Path(work) / "scratch-base-random"
        build_bench_model(folder, seed_sentences(None))  # the vocabulary of all seed sentences
        fp32 = load_predictor(folder, precision="fp32")
        kit_bf16 = load_predictor(folder, precision="bf16")
    assert isinstance(fp32, BertPredictor) and isinstance(kit_bf16, BertPredictor)

    def autocast(batch: list[str]) -> Any:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return fp32.predict(batch)

    t0 = time.perf_counter()
    # The compiled module stands in for the model: it forwards attributes such as .config to it.
    compiled = replace(kit_bf16, model=typing.cast(Any, torch.compile(copy.deepcopy(kit_bf16.model), dynamic=True)))
    # Compiling happens on the first calls, so the config patch must cover them.
    # The predictor runs in inference mode: compiling in another grad mode would compile twice.
    with torch._inductor.config.patch(freezing=True), torch.inference_mode():
        compiled.predict(texts)  # compiles, for the batch shapes of these sentences
    compile_s = time.perf_counter() - t0
    variants: dict[str, Callable[[list[str]], Any]] = {
        "cast (the kit's bf16)": kit_bf16.predict,
        "autocast": autocast,
        "compiled": compiled.predict,
    }

    def rate(fn: Callable[[list[str]], Any]) -> float:
        t0 = time.perf_counter()
        for start in range(0, len(texts), 128):
            fn(texts[start : start + 128])
        return len(texts) / (time.perf_counter() - t0)

    for fn in variants.values():
        rate(fn)  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for name, fn in variants.items():
            rates[name].append(rate(fn))
    base = statistics.median(rates["cast (the kit's bf16)"])
    report = {
        "machine": machine(),
        "sentences": len(texts),
        "compile_s": round(compile_s, 1),
        "sentences_per_s": {
            name: {
                "median": round(statistics.median(r), 1),
                "best": round(max(r), 1),
                "median_vs_cast": round(statistics.median(r) / base, 2),
            }
            for name, r in rates.items()
        },
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
