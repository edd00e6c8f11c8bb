"""Would static int8 through torch.export and inductor beat the kit's paths here? One batch, as JSON.

The kit's int8 is eager dynamic quantization of the linear layers. The strongest alternative torch
offers on x86 is the PT2E flow: ``torch.export`` the model, annotate it with torchao's
``X86InductorQuantizer`` (static int8 activations and weights), calibrate on seed sentences,
convert, and ``torch.compile`` with freezing so that oneDNN runs fused int8 kernels. This script
times that against the kit's fp32, bf16 and int8 on the same batch of 32 seed sentences, in one
process, the paths taking turns. torchao is not a dependency of the kit. Run it as a module from
the repository root (it shares ``benchmarks.serve_bench``'s model builder):

    pip install --no-deps torchao && python -m benchmarks.int8_pt2e     # about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from policytag.training.predictor import Predictor

Encode = Callable[[list[str]], tuple["torch.Tensor", "torch.Tensor"]]
BATCH = 32  # the timed batch: this many sentences around the median length
CALIBRATION = 256  # sentences (other than the timed batch) that calibrate the static quantizer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5, help="turns each path gets (default: 5)")
    return ap.parse_args(argv)


def require_torchao() -> None:
    try:
        import torchao.quantization.pt2e.quantize_pt2e
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer  # noqa: F401
    except ImportError:
        raise SystemExit("torchao is not installed: pip install --no-deps torchao") from None


def kit_predictors(texts: list[str]) -> dict[str, Predictor]:
    """The kit's predictor in every numerics this CPU runs, of one random-weight scratch-base model."""
    import torch

    from benchmarks.serve_bench import build_bench_model
    from policytag.training.numerics.cpu import unavailable_reason
    from policytag.training.numerics.names import NUMERICS
    from policytag.training.predictor import load_predictor

    with tempfile.TemporaryDirectory(prefix="policytag-pt2e-") as work:
        folder = Path(work) / "scratch-base-random"
        build_bench_model(folder, texts)
        cpu = torch.device("cpu")
        return {p: load_predictor(folder, numerics=p) for p in NUMERICS if unavailable_reason(p, cpu) is None}


def batch_and_calibration(texts: list[str]) -> tuple[list[str], list[str]]:
    """The ``BATCH`` sentences around the median length (a batch as wide as the length buckets make
    them), and the others."""
    by_length = sorted(texts, key=len)
    lo = len(by_length) // 2 - BATCH // 2
    hi = lo + BATCH
    return by_length[lo:hi], by_length[:lo] + by_length[hi:]


def logits_module(inner: torch.nn.Module) -> torch.nn.Module:
    """The classifier as a function of two tensors, which is what torch.export takes."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=ids, attention_mask=mask).logits

    return Logits().eval()


def pt2e_int8(
    model: torch.nn.Module, encode: Encode, batch: tuple[torch.Tensor, torch.Tensor], calibration: list[str]
) -> tuple[Callable[..., Any], torch.Tensor, float]:
    """Export, quantize (static int8), calibrate and compile ``model``; its logits on ``batch``; the seconds."""
    import torch
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

    rows, width = torch.export.Dim("rows", min=2, max=256), torch.export.Dim("width", min=4, max=128)
    shapes = {"ids": {0: rows, 1: width}, "mask": {0: rows, 1: width}}
    t0 = time.perf_counter()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.export and torchao warn about APIs they are moving
        graph = torch.export.export(logits_module(model), batch, dynamic_shapes=shapes).module()
        quantizer = xiq.X86InductorQuantizer()
        quantizer.set_global(xiq.get_default_x86_inductor_quantization_config(is_dynamic=False))
        prepared = prepare_pt2e(graph, quantizer)
        for start in range(0, CALIBRATION, BATCH):
            prepared(*encode(calibration[start : start + BATCH]))
        compiled = torch.compile(convert_pt2e(prepared), dynamic=True)
    # Compiling happens on the first call; later calls must run in the same grad mode, or dynamo
    # compiles again, outside this config patch.
    with torch._inductor.config.patch(freezing=True), torch.inference_mode():
        logits = compiled(*batch)
    return compiled, logits, time.perf_counter() - t0


def take_turns(paths: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Each path's seconds in each round, the paths taking turns (after one warm-up call each)."""
    import torch

    times: dict[str, list[float]] = {name: [] for name in paths}
    with torch.inference_mode():
        for fn in paths.values():
            fn()  # warm-up
        for _ in range(rounds):
            for name, fn in paths.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_torchao()
    import torch

    from benchmarks.serve_bench import machine, seed_sentences
    from policytag.training.bert_predictor import BertPredictor

    texts = seed_sentences(None)
    kit = kit_predictors(texts)
    fp32 = kit["fp32"]
    assert isinstance(fp32, BertPredictor) and fp32.tokenizer is not None and fp32.model is not None
    tokenizer, model = fp32.tokenizer, fp32.model

    def encode(batch: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"]

    batch_texts, others = batch_and_calibration(texts)
    ids, mask = encode(batch_texts)
    compiled, pt2e_logits, prepare_s = pt2e_int8(model, encode, (ids, mask), others)

    def forward(m: torch.nn.Module) -> Callable[[], Any]:
        return lambda: m(input_ids=ids, attention_mask=mask)

    paths = {f"kit {p}": forward(k.model) for p, k in kit.items() if isinstance(k, BertPredictor) and k.model}
    paths["pt2e static int8, compiled"] = lambda: compiled(ids, mask)
    times = take_turns(paths, args.rounds)
    with torch.inference_mode():
        reference = model(input_ids=ids, attention_mask=mask).logits
    report = {
        "machine": machine(),
        "batch": list(ids.shape),
        "torchao": __import__("torchao").__version__,
        "pt2e_export_calibrate_compile_s": round(prepare_s, 1),
        "pt2e_max_score_change_vs_fp32": round(
            float((torch.sigmoid(pt2e_logits) - torch.sigmoid(reference)).abs().max()), 4
        ),
        "sentences_per_s_median": {name: round(ids.shape[0] / statistics.median(t), 1) for name, t in times.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
