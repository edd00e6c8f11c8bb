"""Fused inference engines against the kit's paths on one bert-base-shaped batch, as JSON.

The engines the kit did not adopt, measured the way each is meant to run, beside the kit's own paths
(torch fp32/bf16/int8 and the OpenVINO ones it did adopt, :mod:`policytag.training.numerics`), on one
batch of 32 sentences of 54 tokens (half of them padded), random weights, two threads each:

* ONNX Runtime: the model exported (``torch.onnx.export``), fused by ORT's BERT optimizer
  (``Attention``, ``SkipLayerNormalization``, ``BiasGelu``), then quantized *after* fusion:
  dynamic int8 per tensor (``MatMulInteger``), dynamic int8 per channel, and static QDQ int8 per
  channel calibrated on random batches; and the per-channel model as two single-threaded
  ``InferenceSession``s run side by side (throughput of both).
* CTranslate2: the classifier's BERT encoder converted (``TransformersConverter``, int8), run with
  ``Encoder.forward_batch``; the classification head (a linear layer on ``pooler_output``) applied
  in numpy, and the logits compared with torch's.

None of these is a dependency of the kit. Run it as a module from the repository root:

    pip install onnxruntime onnx onnxscript ctranslate2 && python -m benchmarks.engine_compare
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


def require_engines() -> dict[str, str]:
    """The installed engines' versions; exits naming what to install when one is missing."""
    try:
        import ctranslate2
        import onnxruntime as ort
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
        from onnxruntime.transformers import optimizer  # noqa: F401
    except ImportError as e:
        raise SystemExit(f"{e.name} is not installed: pip install onnxruntime onnx onnxscript ctranslate2") from None
    return {"onnxruntime": str(ort.__version__), "ctranslate2": str(ctranslate2.__version__)}


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


def export_onnx(
    model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, work: Path, failed: dict[str, str]
) -> dict[str, str]:
    """The model exported, fused by ORT's BERT optimizer, then quantized (after fusion): name -> file.
    A quantization ORT refuses goes into ``failed`` (file -> reason) instead of the result."""
    import torch
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.transformers import optimizer

    raw = str(work / "model.onnx")
    files = {
        k: str(work / f"{k}.onnx") for k in ("fused", "int8_dynamic", "int8_dynamic_per_channel", "int8_static_qdq")
    }
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
    optimizer.optimize_model(raw, model_type="bert", num_heads=12, hidden_size=768).save_model_to_file(files["fused"])
    # Shape inference cannot type the outputs of ORT's fused operators (another domain): name the type.
    extra = {"DefaultTensorType": 1}  # onnx.TensorProto.FLOAT
    quantize_dynamic(files["fused"], files["int8_dynamic"], weight_type=QuantType.QInt8, extra_options=extra)
    quantize_dynamic(
        files["fused"],
        files["int8_dynamic_per_channel"],
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options=extra,
    )
    try:  # static int8 of the linear layers only: ORT's fused operators take no QDQ pairs
        quantize_static(
            files["fused"],
            files["int8_static_qdq"],
            _Calibration(ids, mask),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            extra_options={**extra, "QuantizeBias": False},
        )
    except (ValueError, RuntimeError) as e:
        failed[files.pop("int8_static_qdq")] = f"{type(e).__name__}: {e}"[:300]
    return files


class _Calibration:
    """ONNX Runtime's calibration reader: a few batches shaped like the timed one."""

    def __init__(self, ids: torch.Tensor, mask: torch.Tensor) -> None:
        import torch

        gen = torch.Generator().manual_seed(1)
        self.batches = iter(
            [{"input_ids": torch.randint(5, 3000, ids.shape, generator=gen).numpy(), "attention_mask": mask.numpy()}
             for _ in range(4)]
        )  # fmt: skip

    def get_next(self) -> dict[str, Any] | None:
        return next(self.batches, None)


def onnx_rates(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, repeats: int) -> dict[str, Any]:
    """Sentences/s of each ONNX Runtime model (two intra-op threads), its largest logit difference from
    torch fp32, and the per-channel model as two one-thread sessions side by side."""
    import onnxruntime as ort
    import torch

    with torch.inference_mode():
        reference = model(input_ids=ids, attention_mask=mask).logits.numpy()
    out: dict[str, Any] = {}
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    with tempfile.TemporaryDirectory() as work:
        failed: dict[str, str] = {}
        files = export_onnx(model, ids, mask, Path(work), failed)
        for path, reason in failed.items():
            out[f"onnxruntime_{Path(path).stem}"] = {"failed": reason}
        for name, path in files.items():
            options = ort.SessionOptions()
            options.intra_op_num_threads = THREADS
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

            def run_session(session: Any = session) -> Any:
                return session.run(None, feed)

            out[f"onnxruntime_{name}"] = {
                "sentences_per_s": round(BATCH / _timed(run_session, repeats), 1),
                "max_logit_diff_from_fp32": round(float(abs(run_session()[0] - reference).max()), 4),
            }
        out["onnxruntime_int8_dynamic_per_channel_two_sessions"] = {
            "sentences_per_s": round(_parallel_sessions(files["int8_dynamic_per_channel"], feed, repeats), 1)
        }
    return out


def _parallel_sessions(path: str, feed: dict[str, Any], repeats: int) -> float:
    """Sentences/s of THREADS one-thread sessions, each running the batch, side by side."""
    from concurrent.futures import ThreadPoolExecutor

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]) for _ in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:

        def both() -> None:
            list(pool.map(lambda s: s.run(None, feed), sessions))  # ORT releases the GIL while it runs

        return THREADS * BATCH / _timed(both, repeats)


def ct2_rates(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, repeats: int) -> dict[str, Any]:
    """CTranslate2's int8 encoder plus the classifier head in numpy: sentences/s and the logit difference."""
    import ctranslate2
    import numpy as np
    import torch
    from ctranslate2.converters import TransformersConverter

    with torch.inference_mode():
        reference = model(input_ids=ids, attention_mask=mask).logits.numpy()
    classifier: Any = model  # a BertForSequenceClassification: its encoder and head are attributes
    weight = classifier.classifier.weight.detach().numpy()
    bias = classifier.classifier.bias.detach().numpy()
    rows = [row[: int(m.sum())].tolist() for row, m in zip(ids, mask, strict=True)]
    with tempfile.TemporaryDirectory() as work:
        encoder_dir, ct2_dir = Path(work) / "bert", Path(work) / "ct2"
        # CTranslate2 4.8's converter reads position_embedding_type, which transformers 5 no longer writes
        classifier.bert.config.position_embedding_type = "absolute"
        classifier.bert.save_pretrained(encoder_dir)  # the encoder alone: CTranslate2 converts a BertModel
        try:
            TransformersConverter(str(encoder_dir)).convert(str(ct2_dir), quantization="int8")
        except Exception as e:  # a converter that does not know this transformers: say so, measure the rest
            return {"ctranslate2_int8": {"failed": f"conversion: {type(e).__name__}: {e}"[:300]}}
        encoder = ctranslate2.Encoder(str(ct2_dir), device="cpu", compute_type="int8", intra_threads=THREADS)

        def run() -> Any:
            pooled = np.asarray(encoder.forward_batch(rows).pooler_output)
            return pooled @ weight.T + bias

        return {
            "ctranslate2_int8": {
                "sentences_per_s": round(BATCH / _timed(run, repeats), 1),
                "max_logit_diff_from_fp32": round(float(abs(run() - reference).max()), 4),
                "head": "linear layer of the classifier applied in numpy to the encoder's pooler_output",
            }
        }


def torch_rates(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, repeats: int) -> dict[str, float]:
    """Sentences/s of the kit's paths that run here (``kit_fp32``, ``kit_int8``, ``kit_openvino-int8``, ...)."""
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

            rates[f"kit_{p}"] = round(BATCH / _timed(run_torch, repeats), 1)
    return rates


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    versions = require_engines()
    import torch

    torch.set_num_threads(THREADS)
    model, ids, mask = bert_base_batch()
    results: dict[str, Any] = {"batch": BATCH, "tokens": LENGTH, **versions}
    results |= onnx_rates(model, ids, mask, args.repeats)
    results |= ct2_rates(model, ids, mask, args.repeats)
    results |= torch_rates(model, ids, mask, args.repeats)
    kit = {k: v for k, v in results.items() if k.startswith("kit_")}
    best = max(kit, key=lambda k: kit[k])
    results["best_kit_path"] = best
    for v in results.values():
        if isinstance(v, dict) and "sentences_per_s" in v:
            v["vs_best_kit_path"] = round(v["sentences_per_s"] / kit[best], 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
