"""The names of the inference precisions, in one place and without torch.

:mod:`policytag.training.precision` runs them; the server's settings and API schemas only name them, and
import this module so that reading settings or ``policytag serve --help`` does not load torch.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["PRECISIONS", "PRECISION_CHOICES", "Precision", "PrecisionRequest"]

Precision = Literal["fp32", "bf16", "int8"]
PrecisionRequest = Literal["fp32", "bf16", "int8", "auto"]

PRECISIONS: tuple[str, ...] = get_args(Precision)
PRECISION_CHOICES: tuple[str, ...] = get_args(PrecisionRequest)
