"""The choice of numerics at load time, and its description for ``/v1/model`` and the log.

An explicit request is honoured or refused with the reason; ``auto`` takes the fastest path that
the model's accuracy guard admits and that runs here, if it beats fp32 by :data:`MIN_SPEEDUP`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import torch
from torch import nn

from policytag.training.numerics.convert import convert
from policytag.training.numerics.cpu import int8_engine, unavailable_reason
from policytag.training.numerics.guard import qualified_paths
from policytag.training.numerics.names import NUMERICS_CHOICES, check_numerics
from policytag.training.numerics.openvino import EngineContext
from policytag.training.numerics.probe import probe_model, probe_speedups

__all__ = ["MIN_SPEEDUP", "NumericsChoice", "choose_numerics"]

M = TypeVar("M", bound=nn.Module)

# A faster path must beat fp32 by this much to be chosen: timing noise should not flip the choice.
MIN_SPEEDUP = 1.10


@dataclass(frozen=True)
class NumericsChoice:
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
        return f"numerics {self.requested} -> {self.used}: {self.reason}" + (
            f" (probe speed against fp32: {speeds})" if speeds else ""
        )


def choose_numerics(
    model: M,
    *,
    requested: str,
    device: torch.device,
    vocab_size: int,
    guard: Mapping[str, Any] | None,
    no_guard: str = "no accuracy guard recorded",
    context: EngineContext | None = None,
) -> tuple[M, NumericsChoice]:
    """Convert ``model`` (fp32, on ``device``) to the requested numerics, or pick them for ``auto``.

    An explicit request that cannot run on ``device`` raises ``ValueError`` with the reason; an
    explicit request is used even if the guard failed (the user asked for it), ``auto`` never;
    ``no_guard`` is the reason reported when ``guard`` is ``None``; ``context`` goes to the OpenVINO
    paths (their cache in the model folder, the tokenizer for int8 calibration).
    """
    check_numerics(requested, allowed=NUMERICS_CHOICES)
    engine = int8_engine() if device.type == "cpu" else None
    if requested != "auto":
        why = unavailable_reason(requested, device)
        if why is not None:
            raise ValueError(f"numerics {requested} are not available on {device}: {why}")
        return convert(model, requested, inplace=True, context=context), NumericsChoice(
            requested, requested, "asked for explicitly", int8_engine=engine if requested == "int8" else None
        )
    if guard is None:
        return model, NumericsChoice("auto", "fp32", no_guard)
    return _choose_auto(model, guard=guard, device=device, vocab_size=vocab_size, engine=engine, context=context)


def _choose_auto(
    model: M,
    *,
    guard: Mapping[str, Any],
    device: torch.device,
    vocab_size: int,
    engine: str | None,
    context: EngineContext | None,
) -> tuple[M, NumericsChoice]:
    """``auto`` with a guard: the fastest qualified path that runs here, timed on a one-layer copy."""
    qualified = qualified_paths(guard)
    candidates = [p for p in qualified if unavailable_reason(p, device) is None]
    if not candidates:
        why = "no faster path passed the accuracy guard" if not qualified else "no qualified path runs on this device"
        return model, NumericsChoice("auto", "fp32", why, qualified=qualified)
    # Time each candidate on a one-layer copy (see probe_model): the probe's memory stays small. An OpenVINO
    # path converts the copy too (uncached: it is not the model) and calibrates it on random ids (speed only).
    small = probe_model(model)
    speeds = probe_speedups(
        {"fp32": small, **{p: convert(small, p) for p in candidates}}, device=device, vocab_size=vocab_size
    )
    del small
    best = max(candidates, key=lambda p: speeds[p])
    if speeds[best] < MIN_SPEEDUP:
        why = f"no qualified path was {MIN_SPEEDUP:.2f}x faster than fp32 here"
        return model, NumericsChoice("auto", "fp32", why, speeds, qualified)
    reason = f"fastest of the paths that passed the accuracy guard ({', '.join(qualified)}) on this machine"
    return convert(model, best, inplace=True, context=context), NumericsChoice(
        "auto", best, reason, speeds, qualified, int8_engine=engine if best == "int8" else None
    )
