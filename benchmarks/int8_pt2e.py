"""Would static int8 through torch.export and inductor beat the kit's paths here? One batch, as JSON.

The kit's int8 is eager dynamic quantization of the linear layers. The strongest alternative torch
offers on x86 is the PT2E flow: ``torch.export`` the model, annotate it with torchao's
``X86InductorQuantizer`` (static int8 activations and weights), calibrate on seed sentences,
convert, and ``torch.compile`` with freezing so that oneDNN runs fused int8 kernels. This script
times that against the kit's fp32, bf16 and int8 on the same batch of 32 seed sentences, in one
process, the paths taking turns. torchao is not a dependency of the kit:

    pip install --no-deps torchao && python benchmarks/int8_pt2e.py     # about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root holds the benchmarks package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5, help="turns each path gets (default: 5)")
    args = ap.parse_args(argv)
    try:
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq
    except ImportError:
        raise SystemExit("torchao is not installed: pip install --no-deps torchao") from None
    import torch

    from benchmarks.serve_bench import build_bench_model, machine, seed_sentences
    from policytag.training.bert_predictor import BertPredictor
    from policytag.training.precision import PRECISIONS, unavailable_reason
    from policytag.training.predictor import load_predictor

    texts = seed_sentences(None)
    with tempfile.TemporaryDirectory(prefix="policytag-pt2e-") as work:
        folder = Path(work) / "scratch-base-random"
        build_bench_model(folder, texts)
        cpu = torch.device("cpu")
        kit = {p: load_predictor(folder, precision=p) for p in PRECISIONS if unavailable_reason(p, cpu) is None}
    fp32 = kit["fp32"]
    assert isinstance(fp32, BertPredictor) and fp32.tokenizer is not None and fp32.model is not None
    tokenizer, model = fp32.tokenizer, fp32.model

    class Logits(torch.nn.Module):
        """The classifier as a function of two tensors, which is what torch.export takes."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=ids, attention_mask=mask).logits

    def encode(batch: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"]

    # The 32 sentences around the median length: a batch as wide as the length buckets make them.
    by_length = sorted(texts, key=len)
    middle = len(by_length) // 2
    batch_texts, others = by_length[middle - 16 : middle + 16], by_length[: middle - 16] + by_length[middle + 16 :]
    ids, mask = encode(batch_texts)
    rows, width = torch.export.Dim("rows", min=2, max=256), torch.export.Dim("width", min=4, max=128)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.export and torchao warn about APIs they are moving
        graph = torch.export.export(
            Logits(model).eval(), (ids, mask), dynamic_shapes={"ids": {0: rows, 1: width}, "mask": {0: rows, 1: width}}
        ).module()
        quantizer = xiq.X86InductorQuantizer()
        quantizer.set_global(xiq.get_default_x86_inductor_quantization_config(is_dynamic=False))
        prepared = prepare_pt2e(graph, quantizer)
        for start in range(0, 256, 32):  # calibrate on sentences other than the timed batch
            prepared(*encode(others[start : start + 32]))
        compiled = torch.compile(convert_pt2e(prepared), dynamic=True)
    # Compiling happens on the first call; later calls must run in the same grad mode, or dynamo
    # compiles again, outside this config patch.
    with torch._inductor.config.patch(freezing=True), torch.inference_mode():
        pt2e_logits = compiled(ids, mask)
    prepare_s = time.perf_counter() - t0

    def forward(m: torch.nn.Module) -> Callable[[], Any]:
        return lambda: m(input_ids=ids, attention_mask=mask)

    paths = {f"kit {p}": forward(k.model) for p, k in kit.items() if isinstance(k, BertPredictor) and k.model}
    paths["pt2e static int8, compiled"] = lambda: compiled(ids, mask)
    times: dict[str, list[float]] = {name: [] for name in paths}
    with torch.inference_mode():
        reference = model(input_ids=ids, attention_mask=mask).logits
        for fn in paths.values():
            fn()  # warm-up
        for _ in range(args.rounds):
            for name, fn in paths.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    batch = ids.shape[0]
    report = {
        "machine": machine(),
        "batch": list(ids.shape),
        "torchao": __import__("torchao").__version__,
        "pt2e_export_calibrate_compile_s": round(prepare_s, 1),
        "pt2e_max_score_change_vs_fp32": round(
            float((torch.sigmoid(pt2e_logits) - torch.sigmoid(reference)).abs().max()), 4
        ),
        "sentences_per_s_median": {name: round(batch / statistics.median(t), 1) for name, t in times.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
