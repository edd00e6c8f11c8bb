"""policytag: tag Chinese rule-of-law report sentences by policy category.

The kit's packages: :mod:`labels` (corpus, taxonomy, gold set, datasets), :mod:`training`
(fine-tuning and evaluation) and :mod:`serving` (the HTTP API). This package holds the
``policytag`` command line.
"""

__version__ = "0.1.0"
