"""Names renamed in this release and still accepted for one more: the one warning they give.

A renamed setting, flag, config field or API field keeps working until the next release; using
the old name warns with :class:`FutureWarning` (shown to end users by default, unlike
``DeprecationWarning``) naming the new one.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_renamed("--precision", "--numerics")
    >>> print(caught[0].message)
    --precision is deprecated and will be removed in the next release; use --numerics
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["RenamedFlag", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}", FutureWarning, stacklevel=stacklevel
    )


class RenamedFlag(argparse.Action):
    """The old spelling of a flag, hidden from ``--help``: warns and stores into the new flag's ``dest``.

    ``parser.add_argument("--precision", dest="numerics", action=RenamedFlag, new="--numerics")``
    """

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        warn_renamed(option_string or self.option_strings[0], self.new)
        setattr(namespace, self.dest, values)
