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
* ``auto``: the fastest path, timed at load time on a one-layer copy of the model (a second or
  two; the paths take turns so that the machine's drift hits them alike), among those whose accuracy
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
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from policytag.training.precision_names import PRECISION_CHOICES, PRECISIONS

__all__ = [
    "PRECISIONS",
    "PRECISION_CHOICES",
    "PrecisionChoice",
    "choose_precision",
    "convert",
    "cpu_flags",
    "int8_engine",
    "probe_model",
    "probe_speedups",
    "quantize_linears",
    "release_free_memory",
    "unavailable_reason",
]


M = TypeVar("M", bound=nn.Module)

# A faster path must beat fp32 by this much to be chosen: timing noise should not flip the choice.
MIN_SPEEDUP = 1.10

_MADV_DONTNEED = 4  # <sys/mman.h> on Linux


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
    """``model`` (fp32, eval mode) in ``precision``; a converted copy unless ``inplace``.

    The weights of a model just loaded are views of the memory-mapped checkpoint. Converting block
    by block and handing each block's pages of the file back once it is converted keeps the peak
    memory of a load near the converted model plus one block, not the converted model plus the
    whole checkpoint.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return model
    target = model if inplace else copy.deepcopy(model)
    mapped = _checkpoint_mappings()
    if precision == "bf16":
        for block in _blocks(target, required=False):
            fp32 = [t.data for t in (*block.parameters(), *block.buffers())]
            block.to(torch.bfloat16)
            _drop_file_pages(fp32, mapped)
        return target.to(torch.bfloat16)
    encoder = _encoder(target)
    # The mapping lives as long as any view of it, including the biases that the packed int8
    # weights keep: copy every tensor that stays fp32 first, so the file is unmapped at the end.
    _copy_tensors(target, skip={id(m.weight) for m in encoder.modules() if isinstance(m, nn.Linear)})
    for block in _blocks(target, required=True):
        weights = [m.weight for m in block.modules() if isinstance(m, nn.Linear)]
        quantize_linears(block)
        _drop_file_pages(weights, mapped)
    return target


def _blocks(model: nn.Module, *, required: bool) -> list[nn.Module]:
    """The encoder's layers, one module each (the whole encoder if it has no layer list)."""
    try:
        encoder = _encoder(model)
    except ValueError:
        if required:
            raise
        return []
    blocks = [b for c in encoder.children() for b in (c if isinstance(c, nn.ModuleList) else [c])]
    if any(isinstance(b, nn.Linear) for b in blocks):  # quantize_linears cannot swap out a bare Linear
        return [encoder]
    return blocks


def _copy_tensors(model: nn.Module, *, skip: set[int]) -> None:
    """Give each parameter and buffer of ``model`` (except ``skip``) its own memory, in place."""
    done = set(skip)
    with torch.no_grad():
        for t in (*model.parameters(), *model.buffers()):
            if id(t) not in done:
                done.add(id(t))
                t.data = t.data.clone()


def _checkpoint_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's private mappings of ``.safetensors`` files (Linux; else none)."""
    try:
        lines = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[1].endswith("p") and fields[5].endswith(".safetensors"):
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            ranges.append((lo, hi))
    return ranges


def _drop_file_pages(tensors: list[torch.Tensor], mapped: list[tuple[int, int]]) -> None:
    """Drop the resident pages of ``tensors`` that lie in a checkpoint file mapping from ``mapped``.

    Only whole pages inside a tensor, in a private mapping of the file: reading one again faults the
    file's bytes back in. A write made in place since loading would be lost, so callers pass only
    tensors that the model has just stopped using (replaced by their converted copies).
    """
    if not mapped:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    page = os.sysconf("SC_PAGE_SIZE")
    for t in tensors:
        if t.device.type != "cpu":  # device memory is no file mapping
            continue
        start = t.data_ptr()
        end = start + t.numel() * t.element_size()
        for lo, hi in mapped:
            first = max(lo, -(-start // page) * page)
            last = min(hi, end // page * page)
            if last > first:
                libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED)


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


def probe_model(model: M) -> M:
    """A copy of ``model`` with one encoder layer: as fast per layer as the model, a twelfth of its memory.

    The speed of a path does not depend on the weights' values, so timing one layer ranks the paths
    as the whole model would, while the probe's copies stay small next to the loaded model.
    """
    encoder = _encoder(model)
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) < 2:
        return copy.deepcopy(model)
    encoder.layer = nn.ModuleList(layers[:1])
    try:
        return copy.deepcopy(model)
    finally:
        encoder.layer = layers


def _forward_seconds(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> float:
    if ids.device.type == "cuda":
        torch.cuda.synchronize(ids.device)
    t0 = time.perf_counter()
    model(input_ids=ids, attention_mask=mask)
    if ids.device.type == "cuda":
        torch.cuda.synchronize(ids.device)
    return time.perf_counter() - t0


@torch.inference_mode()
def probe_speedups(
    models: Mapping[str, nn.Module],
    *,
    device: torch.device,
    vocab_size: int,
    batch: int = 32,
    length: int = 48,
    rounds: int = 7,
) -> dict[str, float]:
    """Each model's speed relative to ``models["fp32"]`` on one random batch (fp32 is 1.0).

    32 rows of 48 tokens: about one served batch of report sentences (their mean is near 50 tokens).
    The paths take turns, round after round, and each keeps its best time: this machine's speed
    drifts from second to second, and turns spread the drift over all paths alike.
    """
    gen = torch.Generator().manual_seed(0)
    # Ids above the special tokens; the speed of a forward pass does not depend on which ids.
    ids = torch.randint(min(5, vocab_size - 1), vocab_size, (batch, length), generator=gen).to(device)
    mask = torch.ones_like(ids)
    for m in models.values():
        m(input_ids=ids, attention_mask=mask)  # warm-up: first calls allocate and pick kernels
    best = dict.fromkeys(models, float("inf"))
    for _ in range(rounds):
        for name, m in models.items():
            best[name] = min(best[name], _forward_seconds(m, ids, mask))
    return {name: round(best["fp32"] / seconds, 2) for name, seconds in best.items()}


@dataclass(frozen=True)
class PrecisionChoice:
    """What was asked for, what runs, and why; /v1/model and the log report it."""

    requested: str
    used: str
    reason: str
    probe_speedup: dict[str, float] = field(default_factory=dict)
    qualified: list[str] = field(default_factory=list)
    int8_engine: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        speeds = ", ".join(f"{p} {s:.2f}x" for p, s in self.probe_speedup.items())
        return f"precision {self.requested} -> {self.used}: {self.reason}" + (
            f" (probe speed against fp32: {speeds})" if speeds else ""
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
    # Time each candidate on a one-layer copy (see probe_model): the probe's memory stays small.
    small = probe_model(model)
    speeds = probe_speedups(
        {"fp32": small, **{p: convert(small, p) for p in candidates}}, device=device, vocab_size=vocab_size
    )
    del small
    best = max(candidates, key=lambda p: speeds[p])
    if speeds[best] < MIN_SPEEDUP:
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
