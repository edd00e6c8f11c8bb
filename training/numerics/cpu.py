"""What this machine can run: the CPU's feature flags, which numerics run well where, the int8 engine.

Example:
    >>> unavailable_reason("int8", torch.device("cuda"))
    'int8 (dynamic quantization) runs on the CPU only'
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from policytag.training.numerics.names import NUMERICS, check_numerics

__all__ = ["cpu_flags", "has_native_bf16", "int8_engine", "unavailable_reason"]


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


def has_native_bf16() -> bool:
    """Whether oneDNN can run bf16 matrix multiplies natively on this CPU (else they are emulated)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def unavailable_reason(numerics: str, device: torch.device) -> str | None:
    """Why ``numerics`` cannot run well on ``device``, or ``None`` when it can."""
    check_numerics(numerics, allowed=NUMERICS)
    if numerics == "fp32":
        return None
    if numerics.startswith("openvino-"):
        return _openvino_reason(numerics, device)
    if numerics == "bf16":
        if device.type == "cuda":
            return None if torch.cuda.is_bf16_supported() else "this GPU has no bf16 support"
        if device.type != "cpu":
            return f"bf16 is not supported on {device.type}"
        if has_native_bf16():
            return None
        return "this CPU has neither AVX512-BF16 nor AMX-BF16, so bf16 would be emulated and slower than fp32"
    if device.type != "cpu":
        return "int8 (dynamic quantization) runs on the CPU only"
    if not torch.backends.quantized.supported_engines or torch.backends.quantized.supported_engines == ["none"]:
        return "this torch build has no quantized CPU engine"
    return None


def _openvino_reason(numerics: str, device: torch.device) -> str | None:
    from policytag.training.numerics.openvino import missing_reason

    if device.type != "cpu":
        return f"{numerics} runs on the CPU (OpenVINO's CPU plugin)"
    if numerics == "openvino-bf16" and not has_native_bf16():
        return "this CPU has neither AVX512-BF16 nor AMX-BF16, so bf16 would be emulated and slower than fp32"
    return missing_reason()


def int8_engine() -> str:
    """The quantized engine for int8: oneDNN on CPUs with AMX-INT8, else torch's default."""
    engines = torch.backends.quantized.supported_engines
    if "amx_int8" in cpu_flags() and "onednn" in engines:
        return "onednn"
    return str(torch.backends.quantized.engine)
