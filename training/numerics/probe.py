"""Timing the numerics paths at load time, on a one-layer copy of the model.

The speed of a path does not depend on the weights' values, so timing one layer ranks the paths as
the whole model would, while the probe's copies stay small next to the loaded model.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import TypeVar

import torch
from torch import nn

from policytag.training.numerics.convert import encoder_of

__all__ = ["forward_seconds", "probe_model", "probe_speedups"]

M = TypeVar("M", bound=nn.Module)


def probe_model(model: M) -> M:
    """A copy of ``model`` with one encoder layer: as fast per layer as the model, a twelfth of its memory."""
    encoder = encoder_of(model)
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) < 2:
        return copy.deepcopy(model)
    encoder.layer = nn.ModuleList(layers[:1])
    try:
        return copy.deepcopy(model)
    finally:
        encoder.layer = layers


def forward_seconds(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> float:
    """Wall seconds of one forward pass (waiting for the GPU to finish, on CUDA)."""
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
            best[name] = min(best[name], forward_seconds(m, ids, mask))
    return {name: round(best["fp32"] / seconds, 2) for name, seconds in best.items()}
