"""OpenVINO inference paths: the model converted to OpenVINO's graph, its kernels fused, bf16 or int8.

``openvino-bf16`` compiles the converted graph with bf16 inference precision (AVX512-BF16 or AMX);
``openvino-int8`` first quantizes it with NNCF's post-training quantization for transformers (static
int8 activations and weights, per-channel, calibrated on report sentences tokenized by the model's
own tokenizer). Both run on the CPU through a :class:`OpenVinoModel`, an ``nn.Module`` with the
forward signature of the transformers model, so the predictor, the speed probe and the accuracy
guard treat it as any other numerics path.

Converting takes tens of seconds for a bert-base shape (tracing, then calibration), so the converted
graph is kept in the model folder, ``engines/<numerics>/`` (``model.xml``, ``model.bin`` and
``engine.json`` naming the model version and the OpenVINO version it was made for), written to a
temporary folder first and renamed into place. A cached graph is used only when ``engine.json``
names the model's version and this OpenVINO: a folder retrained in place never loads the old graph.
A model folder that cannot be written (mounted read-only) still works: the graph is then converted
in memory at each load, with a warning.

Needs the ``openvino`` extra (``pip install 'policytag[openvino]'``: openvino and nncf).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from policytag.training.numerics.names import OPENVINO_NUMERICS

__all__ = [
    "OPENVINO_NUMERICS",
    "EngineContext",
    "OpenVinoModel",
    "cached_engine",
    "missing_reason",
    "to_openvino",
]

log = logging.getLogger(__name__)

ENGINES_DIR = "engines"
_CALIBRATION_SENTENCES = 192
_CALIBRATION_BATCH = 16


@dataclass(frozen=True)
class EngineContext:
    """What a converting engine may use besides the model: where to cache (folder and model version), and
    the tokenizer for calibration sentences (int8). Without a folder nothing is cached; without a
    tokenizer, int8 calibrates on random token ids (enough for a speed probe, not for serving)."""

    folder: Path | None = None
    version: str | None = None
    tokenizer: Any = None


def missing_reason() -> str | None:
    """Why the OpenVINO paths cannot run here (the extra is not installed), or ``None``."""
    # found, not imported: importing nncf takes seconds, and this is asked on every load
    missing = [name for name in ("openvino", "nncf") if importlib.util.find_spec(name) is None]
    if missing:
        return f"the openvino extra is not installed ({', '.join(missing)} missing): pip install 'policytag[openvino]'"
    return None


class OpenVinoModel(nn.Module):
    """A compiled OpenVINO graph behind the transformers forward signature (``.logits`` out, on the CPU).

    Calls are serialised by a lock: one compiled model, one inference request at a time (the server
    runs one batch at a time anyway).
    """

    def __init__(self, compiled: Any, *, config: Any, numerics: str) -> None:
        super().__init__()
        self.compiled = compiled
        self.request = compiled.create_infer_request()  # its profiling_info holds the last call's (with PERF_COUNT)
        self.config = config
        self.numerics = numerics
        self._lock = threading.Lock()

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SequenceClassifierOutput:
        inputs = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()}
        with self._lock:
            logits = np.array(self.request.infer(inputs)[0], dtype=np.float32)  # a copy: the request reuses its buffer
        return SequenceClassifierOutput(logits=torch.from_numpy(logits))

    def __deepcopy__(self, memo: dict[int, Any]) -> OpenVinoModel:
        return self  # a compiled graph is immutable: copies may share it


def to_openvino(model: nn.Module, numerics: str, *, context: EngineContext | None = None) -> OpenVinoModel:
    """``model`` (an fp32 transformers classifier) as an :class:`OpenVinoModel` in ``numerics``.

    Taken from the cache of ``context.folder`` when it holds this version's graph; otherwise converted
    (and cached there when it can be written).
    """
    if numerics not in OPENVINO_NUMERICS:
        raise ValueError(f"unknown OpenVINO numerics {numerics!r}; choose one of {', '.join(OPENVINO_NUMERICS)}")
    why = missing_reason()
    if why is not None:
        raise ValueError(f"numerics {numerics}: {why}")
    import openvino as ov

    ctx = context or EngineContext()
    graph = cached_engine(ctx.folder, numerics, ctx.version) if ctx.folder is not None else None
    if graph is None:
        graph = _convert(model, numerics, ctx.tokenizer)
        if ctx.folder is not None and ctx.version is not None:
            _store(graph, ctx.folder, numerics, ctx.version)
    precision = "bf16" if numerics == "openvino-bf16" else "f32"  # int8 layers stay int8 under either hint
    compiled = ov.Core().compile_model(graph, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    return OpenVinoModel(compiled, config=getattr(model, "config", None), numerics=numerics)


def _example(tokenizer: Any, vocab_size: int, *, rows: int = 4, length: int = 24) -> dict[str, torch.Tensor]:
    """An input with padding in it: tracing follows the padded path, so padded batches convert right."""
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(min(5, vocab_size - 1), vocab_size, (rows, length), generator=gen)
    mask = torch.ones_like(ids)
    mask[1:, length // 2 :] = 0
    pad = getattr(tokenizer, "pad_token_id", None) or 0
    ids[mask == 0] = pad
    return {"input_ids": ids, "attention_mask": mask}


def _calibration(tokenizer: Any, vocab_size: int) -> list[dict[str, np.ndarray]]:
    """Batches of report sentences as the model's tokenizer makes them (random ids without a tokenizer)."""
    if tokenizer is None:
        return [{k: v.numpy() for k, v in _example(None, vocab_size, rows=8, length=48).items()}]
    from policytag.core.jsonl import read_jsonl
    from policytag.core.paths import data_path

    texts = [r["text"] for r in read_jsonl(data_path("sentences"))][:_CALIBRATION_SENTENCES]
    batches = []
    for i in range(0, len(texts), _CALIBRATION_BATCH):
        enc = tokenizer(texts[i : i + _CALIBRATION_BATCH], padding=True, truncation=True, max_length=128)
        batches.append({k: np.asarray(enc[k], dtype=np.int64) for k in ("input_ids", "attention_mask")})
    return batches


def _convert(model: nn.Module, numerics: str, tokenizer: Any) -> Any:
    import openvino as ov

    vocab_size = int(getattr(getattr(model, "config", None), "vocab_size", 100))
    # Tracing under inference_mode fails (inference tensors cannot be traced). The tracer warns where
    # transformers branches on shapes; the example has padding, so the padded branch is the one traced.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        graph = ov.convert_model(model, example_input=_example(tokenizer, vocab_size))
    if numerics == "openvino-int8":
        import nncf

        batches = _calibration(tokenizer, vocab_size)
        graph = nncf.quantize(
            graph, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches)
        )
    return graph


def _engine_dir(folder: Path, numerics: str) -> Path:
    return Path(folder) / ENGINES_DIR / numerics


def cached_engine(folder: Path | None, numerics: str, version: str | None) -> Any:
    """The cached graph of ``numerics`` for model ``version`` in ``folder``, or ``None`` (none, or another's)."""
    if folder is None or version is None:
        return None
    where = _engine_dir(folder, numerics)
    try:
        meta = json.loads((where / "engine.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    import openvino as ov

    if meta.get("model_version") != version or meta.get("openvino") != ov.__version__:
        log.info("%s: made for model %s with OpenVINO %s; converting again", where, meta.get("model_version"),
                 meta.get("openvino"))  # fmt: skip
        return None
    return ov.Core().read_model(str(where / "model.xml"))


def _store(graph: Any, folder: Path, numerics: str, version: str) -> None:
    """Write the graph beside the model, atomically (a temporary folder renamed into place)."""
    import openvino as ov

    final = _engine_dir(folder, numerics)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{numerics}-", dir=final.parent))
    except OSError as e:
        log.warning("%s: cannot cache the %s graph here (%s); it is converted at every load", folder, numerics, e)
        return
    try:
        ov.save_model(graph, str(tmp / "model.xml"), compress_to_fp16=False)
        meta = {"model_version": version, "numerics": numerics, "openvino": ov.__version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        (tmp / "engine.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except OSError as e:
        log.warning("%s: cannot cache the %s graph here (%s); it is converted at every load", folder, numerics, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
