"""Would ONNX Runtime int8 beat the kit's torch paths here? One bert-base-shaped batch, as JSON.

Exports a random-weight model of the ``scratch-base`` shape with ``torch.onnx.export``, fuses it
with ONNX Runtime's BERT optimizer, quantizes it dynamically to int8 (``onnxruntime.quantization``),
and times it against the kit's fp32, bf16 and int8 torch paths on the same batch of 32 sentences
of 54 tokens, in one process, two threads each. ONNX Runtime is not a dependency of the kit. Run
it as a module from the repository root, as the other benchmarks:

    pip install onnxruntime onnx onnxscript && python -m benchmarks.onnx_compare
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

BATCH, LENGTH = 32, 54  # sentences, tokens: a batch of the seed sentences' typical width
THREADS = 2


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeats", type=int, default=7)
    return ap.parse_args(argv)


def require_onnxruntime() -> str:
    """The installed ONNX Runtime's version; exits naming what to install when it is missing."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
        from onnxruntime.transformers import optimizer  # noqa: F401
    except ImportError:
        raise SystemExit("onnxruntime is not installed: pip install onnxruntime onnx onnxscript") from None
    return str(ort.__version__)


def bert_base_batch() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A random-weight bert-base classifier (13 labels) and a BATCH x LENGTH batch, half of it padded."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=3000)  # bert-base: 12 layers, hidden 768
    config.num_labels = 13
    model = BertForSequenceClassification(config).eval()
    ids = torch.randint(5, 3000, (BATCH, LENGTH))
    mask = torch.ones_like(ids)
    mask[::2, 40:] = 0  # half the rows padded, as in a length-sorted batch
    return model, ids, mask


def export_onnx(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, work: Path) -> tuple[str, str]:
    """The model exported, fused by ORT's BERT optimizer, and quantized to int8: (fused, int8) file paths."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    raw, fused, q8 = (str(work / n) for n in ("model.onnx", "fused.onnx", "int8.onnx"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids, mask),
            raw,
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}},
            opset_version=17,
            dynamo=False,
        )
    optimizer.optimize_model(raw, model_type="bert", num_heads=12, hidden_size=768).save_model_to_file(fused)
    quantize_dynamic(fused, q8, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": 1})
    return fused, q8


def onnx_rates(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, repeats: int) -> dict[str, float]:
    """Sentences/s of ONNX Runtime fp32 (fused) and int8, two threads."""
    import onnxruntime as ort

    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        fused, q8 = export_onnx(model, ids, mask, Path(work))
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        for name, path in (("onnxruntime_fp32", fused), ("onnxruntime_int8", q8)):
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

            def run_session(session: Any = session) -> Any:
                return session.run(None, feed)

            rates[name] = round(BATCH / _timed(run_session, repeats), 1)
    return rates


def torch_rates(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, repeats: int) -> dict[str, float]:
    """Sentences/s of the kit's torch paths that this CPU runs (``torch_fp32``, ``torch_bf16``, ``torch_int8``)."""
    import torch

    from policytag.training.numerics.convert import convert
    from policytag.training.numerics.cpu import unavailable_reason
    from policytag.training.numerics.names import NUMERICS

    rates: dict[str, float] = {}
    cpu = torch.device("cpu")
    with torch.inference_mode():
        for p in NUMERICS:
            if unavailable_reason(p, cpu) is not None:
                continue
            m = convert(model, p)

            def run_torch(m: Any = m) -> Any:
                return m(input_ids=ids, attention_mask=mask)

            rates[f"torch_{p}"] = round(BATCH / _timed(run_torch, repeats), 1)
    return rates


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    version = require_onnxruntime()
    import torch

    torch.set_num_threads(THREADS)
    model, ids, mask = bert_base_batch()
    results: dict[str, Any] = {"batch": BATCH, "tokens": LENGTH, "onnxruntime": version}
    results |= onnx_rates(model, ids, mask, args.repeats)
    results |= torch_rates(model, ids, mask, args.repeats)
    best_torch = max(v for k, v in results.items() if k.startswith("torch_"))
    results["onnxruntime_int8_vs_best_torch"] = round(results["onnxruntime_int8"] / best_torch, 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
