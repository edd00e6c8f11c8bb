"""Would ONNX Runtime int8 beat the kit's torch paths here? One bert-base-shaped batch, as JSON.

Exports a random-weight model of the ``scratch-base`` shape with ``torch.onnx.export``, fuses it
with ONNX Runtime's BERT optimizer, quantizes it dynamically to int8 (``onnxruntime.quantization``),
and times it against the kit's fp32, bf16 and int8 torch paths on the same batch of 32 sentences
of 54 tokens, in one process, two threads each. ONNX Runtime is not a dependency of the kit:

    pip install onnxruntime onnx onnxscript && python benchmarks/onnx_compare.py
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
from typing import Any


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError:
        raise SystemExit("onnxruntime is not installed: pip install onnxruntime onnx onnxscript") from None
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from policytag.training.precision import PRECISIONS, convert, unavailable_reason

    torch.manual_seed(0)
    torch.set_num_threads(2)
    config = BertConfig(vocab_size=3000)  # bert-base: 12 layers, hidden 768
    config.num_labels = 13
    model = BertForSequenceClassification(config).eval()
    batch, length = 32, 54
    ids = torch.randint(5, 3000, (batch, length))
    mask = torch.ones_like(ids)
    mask[::2, 40:] = 0  # half the rows padded, as in a length-sorted batch
    results: dict[str, Any] = {"batch": batch, "tokens": length, "onnxruntime": ort.__version__}
    with tempfile.TemporaryDirectory() as work:
        raw, fused, q8 = (str(Path(work) / n) for n in ("model.onnx", "fused.onnx", "int8.onnx"))
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
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        for name, path in (("onnxruntime_fp32", fused), ("onnxruntime_int8", q8)):
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

            def run_session(session: Any = session) -> Any:
                return session.run(None, feed)

            results[name] = round(batch / _timed(run_session, args.repeats), 1)
    cpu = torch.device("cpu")
    with torch.inference_mode():
        for p in PRECISIONS:
            if unavailable_reason(p, cpu) is not None:
                continue
            m = convert(model, p)

            def run_torch(m: Any = m) -> Any:
                return m(input_ids=ids, attention_mask=mask)

            seconds = _timed(run_torch, args.repeats)
            results[f"torch_{p}"] = round(batch / seconds, 1)
    best_torch = max(v for k, v in results.items() if k.startswith("torch_"))
    results["onnxruntime_int8_vs_best_torch"] = round(results["onnxruntime_int8"] / best_torch, 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
