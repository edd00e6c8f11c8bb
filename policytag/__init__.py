"""policytag: tag Chinese rule-of-law report sentences by policy category.

One import namespace, in layers (see docs/architecture.md): :mod:`policytag.cli` (the ``policytag``
command) on top, then :mod:`policytag.serving` (the HTTP API), :mod:`policytag.training`
(fine-tuning, evaluation, model folders), :mod:`policytag.labels` (corpus, gold set, Label Studio)
and :mod:`policytag.core` (taxonomy, sentence splitting, JSON IO, paths).
"""

from policytag.core.version import __version__

__all__ = ["__version__"]
