"""Converting an fp32 BERT to bf16 or int8, block by block.

The weights of a model just loaded are views of the memory-mapped checkpoint. Converting block by
block and handing each block's pages of the file back once it is converted (:mod:`.memory`) keeps
the peak memory of a load near the converted model plus one block, not the converted model plus
the whole checkpoint.
"""

from __future__ import annotations

import copy
import warnings
from typing import TypeVar, cast

import torch
from torch import nn

from policytag.training.numerics.cpu import int8_engine
from policytag.training.numerics.memory import checkpoint_mappings, drop_file_pages
from policytag.training.numerics.names import NUMERICS, check_numerics
from policytag.training.numerics.openvino import OPENVINO_NUMERICS, EngineContext, to_openvino

__all__ = ["convert", "encoder_of", "quantize_linears"]

M = TypeVar("M", bound=nn.Module)


def convert(model: M, numerics: str, *, inplace: bool = False, context: EngineContext | None = None) -> M:
    """``model`` (fp32, eval mode) in ``numerics``; a converted copy unless ``inplace``.

    The OpenVINO paths return an :class:`~policytag.training.numerics.openvino.OpenVinoModel` (the same
    forward signature) and leave ``model`` as it is; ``context`` says where they may cache the converted
    graph and which tokenizer makes their calibration sentences.
    """
    check_numerics(numerics, allowed=NUMERICS)
    if numerics == "fp32":
        return model
    if numerics in OPENVINO_NUMERICS:
        return cast(M, to_openvino(model, numerics, context=context))
    target = model if inplace else copy.deepcopy(model)
    mapped = checkpoint_mappings()
    if numerics == "bf16":
        for block in _blocks(target, required=False):
            fp32 = [t.data for t in (*block.parameters(), *block.buffers())]
            block.to(torch.bfloat16)
            drop_file_pages(fp32, mapped)
        return target.to(torch.bfloat16)
    encoder = encoder_of(target)
    # The mapping lives as long as any view of it, including the biases that the packed int8
    # weights keep: copy every tensor that stays fp32 first, so the file is unmapped at the end.
    _copy_tensors(target, skip={id(m.weight) for m in encoder.modules() if isinstance(m, nn.Linear)})
    for block in _blocks(target, required=True):
        weights = [m.weight for m in block.modules() if isinstance(m, nn.Linear)]
        quantize_linears(block)
        drop_file_pages(weights, mapped)
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


def encoder_of(model: nn.Module) -> nn.Module:
    """The encoder of a BERT-like model (the part int8 quantizes and the speed probe shortens)."""
    base = getattr(model, "base_model", model)
    encoder = getattr(base, "encoder", None)
    if not isinstance(encoder, nn.Module):
        raise ValueError(f"int8 needs a BERT-like model with an encoder; {type(model).__name__} has none")
    return encoder


def _blocks(model: nn.Module, *, required: bool) -> list[nn.Module]:
    """The encoder's layers, one module each (the whole encoder if it has no layer list)."""
    try:
        encoder = encoder_of(model)
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
