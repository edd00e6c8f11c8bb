"""Training throughput (samples/s) of scratch BERTs of each shape on this machine, as JSON.

Runs the kit's own Trainer set-up (``policytag.training.bert.build_trainer``) on the gold sentences for a
fixed number of optimisation steps, without evaluation or checkpoints, and reports samples/s
(the Trainer's figure over the timed steps, after warm-up steps) and each shape's ratio to
``scratch-tiny`` measured in the same run.

    python -m benchmarks.train_speed [--sizes scratch-tiny scratch-mini scratch-base] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
from transformers import PrinterCallback

from policytag.core import paths
from policytag.core.taxonomy import load_taxonomy
from policytag.labels.dataset import document_split, read_labelled
from policytag.training.base_model import resolve_base
from policytag.training.bert import build_trainer
from policytag.training.config import TrainConfig


def measure(size: str, *, steps: int, warmup: int, batch_size: int, max_length: int) -> dict[str, float | int | str]:
    tax = load_taxonomy()
    records = read_labelled(paths.data_path("gold"), tax)
    split = document_split(records, tax, validation_docs=1)
    with tempfile.TemporaryDirectory() as work:
        cfg = TrainConfig(
            data=str(paths.data_path("gold")),
            output_dir=str(Path(work) / "m"),
            base_model=size,
            batch_size=batch_size,
            max_length=max_length,
        )
        base = resolve_base(size, candidates=[], scratch_size=size, train_texts=[r["text"] for r in split.train])
        common = {
            "eval_strategy": "no",
            "save_strategy": "no",
            "load_best_model_at_end": False,
            "logging_strategy": "no",
        }
        # Warm-up run (allocator, kernels), then the timed run with a fresh Trainer of the same shape.
        warm, _ = build_trainer(cfg, split, tax, base, progress=False, max_steps=warmup, **common)
        warm.remove_callback(PrinterCallback)  # keep stdout for the JSON
        warm.train()
        trainer, mixed_precision = build_trainer(cfg, split, tax, base, progress=False, max_steps=steps, **common)
        trainer.remove_callback(PrinterCallback)
        t0 = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - t0
        assert trainer.model is not None
        params = sum(int(p.numel()) for p in trainer.model.parameters())
    return {
        "size": size,
        "parameters": int(params),
        "steps": steps,
        "batch_size": batch_size,
        "max_length": max_length,
        "mixed_precision": mixed_precision,
        "seconds": round(wall, 3),
        "samples_per_s": round(steps * batch_size / wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["scratch-tiny", "scratch-mini", "scratch-base"])
    ap.add_argument("--steps", type=int, default=20, help="timed optimisation steps per size")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    args = ap.parse_args()
    results = [
        measure(s, steps=args.steps, warmup=args.warmup, batch_size=args.batch_size, max_length=args.max_length)
        for s in args.sizes
    ]
    ref = next((r for r in results if r["size"] == "scratch-tiny"), results[0])
    for r in results:
        r["ratio_to_" + str(ref["size"])] = round(float(r["samples_per_s"]) / float(ref["samples_per_s"]), 4)
    print(
        json.dumps(
            {
                "benchmark": "train_speed",
                "device": "cuda" if torch.cuda.is_available() else "cpu",
                "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "machine": platform.processor() or platform.machine(),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
