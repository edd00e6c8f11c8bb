"""The names of the inference numerics, in one place and without torch.

The server's settings, the API schemas and the CLI only name them, and import this module so that
reading settings or ``policytag serve --help`` does not load torch.

Example:
    >>> NUMERICS, NUMERICS_CHOICES[-1]
    (('fp32', 'bf16', 'int8', 'openvino-bf16', 'openvino-int8'), 'auto')
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["NUMERICS", "NUMERICS_CHOICES", "OPENVINO_NUMERICS", "Numerics", "NumericsRequest", "check_numerics"]

# torch's paths, then the OpenVINO engine's (:mod:`policytag.training.numerics.openvino`, an optional extra)
Numerics = Literal["fp32", "bf16", "int8", "openvino-bf16", "openvino-int8"]
NumericsRequest = Literal["fp32", "bf16", "int8", "openvino-bf16", "openvino-int8", "auto"]

NUMERICS: tuple[str, ...] = get_args(Numerics)
NUMERICS_CHOICES: tuple[str, ...] = get_args(NumericsRequest)
OPENVINO_NUMERICS: tuple[str, ...] = tuple(n for n in NUMERICS if n.startswith("openvino-"))


def check_numerics(name: str, *, allowed: tuple[str, ...] = NUMERICS) -> str:
    """``name`` if it is one of ``allowed``; else ``ValueError`` naming the choices.

    >>> check_numerics("fp16")
    Traceback (most recent call last):
    ...
    ValueError: unknown numerics 'fp16'; choose one of fp32, bf16, int8, openvino-bf16, openvino-int8
    """
    if name not in allowed:
        raise ValueError(f"unknown numerics {name!r}; choose one of {', '.join(allowed)}")
    return name
