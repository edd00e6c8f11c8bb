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

Run it as a module from the repository root (it shares ``benchmarks.serve_bench``'s model builder):

    python -m benchmarks.bf16_variants        # about 3 minutes on 2 cores, most of it compiling
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policytag.training.bert_predictor import BertPredictor

Variant = Callable[[list[str]], Any]
CAST = "cast (the kit's bf16)"
CALL_SIZE = 128  # sentences per predict call, as serve_bench.py times the kit


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5, help="turns each variant gets (default: 5)")
    ap.add_argument(
        "--sentences",
        type=int,
        default=None,
        help="time the first N seed sentences (default: all of labels/sentences.jsonl)",
    )
    return ap.parse_args(argv)


def kit_predictors() -> tuple[BertPredictor, BertPredictor]:
    """The kit's fp32 and bf16 predictors of one random-weight scratch-base model (exits without bf16)."""
    import torch

    from benchmarks.serve_bench import build_bench_model, seed_sentences
    from policytag.training.bert_predictor import BertPredictor
    from policytag.training.numerics.cpu import unavailable_reason
    from policytag.training.predictor import load_predictor

    why = unavailable_reason("bf16", torch.device("cpu"))
    if why is not None:
        raise SystemExit(f"bf16: {why}")
    with tempfile.TemporaryDirectory(prefix="policytag-bf16-") as work:
        folder = Path(work) / "scratch-base-random"
        build_bench_model(folder, seed_sentences(None))  # the vocabulary of all seed sentences
        fp32 = load_predictor(folder, numerics="fp32")
        kit_bf16 = load_predictor(folder, numerics="bf16")
    assert isinstance(fp32, BertPredictor) and isinstance(kit_bf16, BertPredictor)
    return fp32, kit_bf16


def compiled_predictor(kit_bf16: BertPredictor, texts: list[str]) -> tuple[BertPredictor, float]:
    """The kit's bf16 predictor with its model through ``torch.compile``, compiled on ``texts``; and the seconds."""
    import torch

    t0 = time.perf_counter()
    # The compiled module stands in for the model: it forwards attributes such as .config to it.
    compiled = replace(kit_bf16, model=typing.cast(Any, torch.compile(copy.deepcopy(kit_bf16.model), dynamic=True)))
    # Compiling happens on the first calls, so the config patch must cover them.
    # The predictor runs in inference mode: compiling in another grad mode would compile twice.
    with torch._inductor.config.patch(freezing=True), torch.inference_mode():
        compiled.predict(texts)  # compiles, for the batch shapes of these sentences
    return compiled, time.perf_counter() - t0


def variants(fp32: BertPredictor, kit_bf16: BertPredictor, compiled: BertPredictor) -> dict[str, Variant]:
    import torch

    def autocast(batch: list[str]) -> Any:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return fp32.predict(batch)

    return {CAST: kit_bf16.predict, "autocast": autocast, "compiled": compiled.predict}


def rate(fn: Variant, texts: list[str]) -> float:
    """Sentences per second of ``fn`` over ``texts``, ``CALL_SIZE`` per call."""
    t0 = time.perf_counter()
    for start in range(0, len(texts), CALL_SIZE):
        fn(texts[start : start + CALL_SIZE])
    return len(texts) / (time.perf_counter() - t0)


def take_turns(named: dict[str, Variant], texts: list[str], rounds: int) -> dict[str, list[float]]:
    """Each variant's rate in each round, the variants taking turns (after one warm-up call each)."""
    for fn in named.values():
        rate(fn, texts)  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in named}
    for i in range(rounds):
        print(f"round {i + 1}/{rounds}", file=sys.stderr, flush=True)
        for name, fn in named.items():
            rates[name].append(rate(fn, texts))
    return rates


def report(rates: dict[str, list[float]], *, sentences: int, compile_s: float) -> dict[str, Any]:
    from benchmarks.serve_bench import machine

    base = statistics.median(rates[CAST])
    return {
        "machine": machine(),
        "sentences": sentences,
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from benchmarks.serve_bench import seed_sentences

    fp32, kit_bf16 = kit_predictors()
    texts = seed_sentences(args.sentences)
    compiled, compile_s = compiled_predictor(kit_bf16, texts)
    rates = take_turns(variants(fp32, kit_bf16, compiled), texts, args.rounds)
    print(json.dumps(report(rates, sentences=len(texts), compile_s=compile_s), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
