"""``policytag.labels``: corpus, seeds, hand labels, datasets, agreement and the Label Studio loop.

Below training in the layers (docs/architecture.md): imports only :mod:`policytag.core`.
"""
