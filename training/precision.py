"""Inference precision of a BERT classifier: ``fp32``, ``bf16``, ``int8`` or ``auto``.

* ``fp32``: the model as trained.
* ``bf16``: weights and activations in bfloat16. On CPUs with AVX512-BF16 or AMX-BF16 oneDNN runs
  the matrix multiplies natively (accumulating in fp32); elsewhere bf16 would be emulated and
  slower than fp32, so it is refused there. Casting the weights once measured faster here than
  ``torch.autocast`` (which re-casts every weight on every call) with the same numerics in the
  matrix multiplies; the accuracy guard checks the rest.
* ``int8``: torch's dynamic quantization of the encoder's linear layers (int8 weights, activations
  quantized per batch; embeddings, pooler and classifier head stay fp32). On CPUs with AMX-INT8
  the oneDNN engine is used; it measured about 1.5x the default engine's speed on a bert-base
  shape here. CPU only.
* ``auto``: the fastest path, timed on a short probe at load time, among those whose accuracy
  guard holds for this model (``precision_guard.json`` in the model folder, written by
  ``policytag train`` and by ``benchmarks/quant_agreement.py --write``). Without a guard, or when
  no path qualifies, ``auto`` is ``fp32``.

Example:
    >>> unavailable_reason("int8", torch.device("cuda"))
    'int8 (dynamic quantization) runs on the CPU only'
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import ctypes.util
import functools
import gc
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

__all__ = [
    "PRECISIONS",
    "PRECISION_CHOICES",
    "PrecisionChoice",
    "choose_precision",
    "convert",
    "cpu_flags",
    "int8_engine",
    "probe_speed",
    "quantize_linears",
    "release_free_memory",
    "unavailable_reason",
]

PRECISIONS = ("fp32", "bf16", "int8")
PRECISION_CHOICES = (*PRECISIONS, "auto")

M = TypeVar("M", bound=nn.Module)

# A faster path must beat fp32 by this much to be chosen: timing noise should not flip the choice.
MIN_SPEEDUP = 1.10


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags the kernel reports (Linux); empty where they cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def unavailable_reason(precision: str, device: torch.device) -> str | None:
    """Why ``precision`` cannot run well on ``device``, or ``None`` when it can."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISION_CHOICES)}")
    if precision == "fp32":
        return None
    if precision == "bf16":
        if device.type == "cuda":
            return None if torch.cuda.is_bf16_supported() else "this GPU has no bf16 support"
        if device.type != "cpu":
            return f"bf16 is not supported on {device.type}"
        if {"avx512_bf16", "amx_bf16"} & cpu_flags():
            return None
        return "this CPU has neither AVX512-BF16 nor AMX-BF16, so bf16 would be emulated and slower than fp32"
    if device.type != "cpu":
        return "int8 (dynamic quantization) runs on the CPU only"
    if not torch.backends.quantized.supported_engines or torch.backends.quantized.supported_engines == ["none"]:
        return "this torch build has no quantized CPU engine"
    return None


def int8_engine() -> str:
    """The quantized engine for int8: oneDNN on CPUs with AMX-INT8, else torch's default."""
    engines = torch.backends.quantized.supported_engines
    if "amx_int8" in cpu_flags() and "onednn" in engines:
        return "onednn"
    return str(torch.backends.quantized.engine)


def convert(model: M, precision: str, *, inplace: bool = False) -> M:
    """``model`` (fp32, eval mode) in ``precision``; a converted copy unless ``inplace``."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return model
    target = model if inplace else copy.deepcopy(model)
    if precision == "bf16":
        return target.to(torch.bfloat16)
    quantize_linears(_encoder(target))
    return target


def quantize_linears(module: nn.Module) -> None:
    """Replace the ``nn.Linear`` layers inside ``module`` by dynamic int8 ones, packed for :func:`int8_engine`."""
    previous = torch.backends.quantized.engine
    try:
        # The engine decides how weights are packed; the packed weights then run with that engine's
        # kernels whatever the global setting is later.
        torch.backends.quantized.engine = int8_engine()
        with warnings.catch_warnings():
            # torch.ao.quantization warns that it moves to torchao; the pinned torch 2.13 still ships it.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            torch.ao.quantization.quantize_dynamic(module, {nn.Linear}, dtype=torch.qint8, inplace=True)
    finally:
        torch.backends.quantized.engine = previous


def _encoder(model: nn.Module) -> nn.Module:
    base = getattr(model, "base_model", model)
    encoder = getattr(base, "encoder", None)
    if not isinstance(encoder, nn.Module):
        raise ValueError(f"int8 needs a BERT-like model with an encoder; {type(model).__name__} has none")
    return encoder


def release_free_memory() -> None:
    """Hand memory freed by a conversion back to the OS (glibc keeps freed heap pages otherwise)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name and "libc.so" in name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).malloc_trim(0)


@torch.inference_mode()
def probe_speed(
    model: nn.Module, *, device: torch.device, vocab_size: int, batch: int = 32, length: int = 48, repeats: int = 3
) -> float:
    """Sentences/s of ``model`` on a fixed random batch (one warm-up pass, best of ``repeats``).

    32 rows of 48 tokens: about one served batch of report sentences (their mean is near 50 tokens).
    """
    gen = torch.Generator().manual_seed(0)
    # Ids above the special tokens; the speed of a forward pass does not depend on which ids.
    ids = torch.randint(min(5, vocab_size - 1), vocab_size, (batch, length), generator=gen).to(device)
    mask = torch.ones_like(ids)
    model(input_ids=ids, attention_mask=mask)
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return batch / best


@dataclass(frozen=True)
class PrecisionChoice:
    """What was asked for, what runs, and why; /v1/model and the log report it."""

    requested: str
    used: str
    reason: str
    probe_sentences_per_s: dict[str, float] = field(default_factory=dict)
    qualified: list[str] = field(default_factory=list)
    int8_engine: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        speeds = ", ".join(f"{p} {s:.1f}" for p, s in self.probe_sentences_per_s.items())
        return f"precision {self.requested} -> {self.used}: {self.reason}" + (
            f" (probe sentences/s: {speeds})" if speeds else ""
        )


def qualified_paths(guard: Mapping[str, Any] | None) -> list[str]:
    """Paths other than fp32 that the guard admits (empty without a guard)."""
    if guard is None:
        return []
    paths = guard.get("paths", {})
    return [p for p in PRECISIONS if p != "fp32" and isinstance(paths.get(p), dict) and paths[p].get("qualifies")]


def choose_precision(
    model: M,
    *,
    requested: str,
    device: torch.device,
    vocab_size: int,
    guard: Mapping[str, Any] | None,
    no_guard: str = "no accuracy guard recorded",
) -> tuple[M, PrecisionChoice]:
    """Convert ``model`` (fp32, on ``device``) to the requested precision, or pick one for ``auto``.

    An explicit precision that cannot run on ``device`` raises ``ValueError`` with the reason; an
    explicit precision is used even if the guard failed (the user asked for it), ``auto`` never;
    ``no_guard`` is the reason reported when ``guard`` is ``None``.
    """
    if requested not in PRECISION_CHOICES:
        raise ValueError(f"unknown precision {requested!r}; choose one of {', '.join(PRECISION_CHOICES)}")
    engine = int8_engine() if device.type == "cpu" else None
    if requested != "auto":
        why = unavailable_reason(requested, device)
        if why is not None:
            raise ValueError(f"precision {requested} is not available on {device}: {why}")
        return convert(model, requested, inplace=True), PrecisionChoice(
            requested, requested, "asked for explicitly", int8_engine=engine if requested == "int8" else None
        )
    if guard is None:
        return model, PrecisionChoice("auto", "fp32", no_guard)
    qualified = qualified_paths(guard)
    candidates = [p for p in qualified if unavailable_reason(p, device) is None]
    if not candidates:
        why = "no faster path passed the accuracy guard" if not qualified else "no qualified path runs on this device"
        return model, PrecisionChoice("auto", "fp32", why, qualified=qualified)
    # Time each candidate on the same probe, one converted copy at a time (peak memory: two models).
    speeds = {"fp32": probe_speed(model, device=device, vocab_size=vocab_size)}
    for p in candidates:
        trial = convert(model, p)
        speeds[p] = probe_speed(trial, device=device, vocab_size=vocab_size)
        del trial
    best = max(candidates, key=lambda p: speeds[p])
    if speeds[best] < MIN_SPEEDUP * speeds["fp32"]:
        choice = PrecisionChoice(
            "auto",
            "fp32",
            f"no qualified path was {MIN_SPEEDUP:.2f}x faster than fp32 here",
            speeds,
            qualified,
        )
        return model, choice
    reason = f"fastest of the paths that passed the accuracy guard ({', '.join(qualified)}) on this machine"
    return convert(model, best, inplace=True), PrecisionChoice(
        "auto", best, reason, speeds, qualified, int8_engine=engine if best == "int8" else None
    )
