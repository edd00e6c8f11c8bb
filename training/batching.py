"""Length-bucketed batching with a token budget, for inference.

Sentences are sorted by length and cut into batches whose padded size (rows x longest row) stays
within ``token_budget``: short sentences travel in large batches, long ones in small batches, and
padding stays a few tokens per row. A fixed number of unsorted rows per batch would pad every
sentence to the longest of 32 random ones (the issue measured the plain pipeline at half its
per-sentence speed that way).

With ``shapes=True`` a batch also takes one of a few shapes: its width is padded up to a length
bucket (:data:`LENGTH_BUCKETS`) and its rows to a power of two, so that a model whose kernels are
built per input shape (oneDNN's bf16 matrix multiplies: 34 ms for each new shape, measured) meets
only shapes it was warmed up on (:func:`batch_shapes` lists them). Full batches are cut at a power of
two rows, so only a batch's tail pays padding rows.

Example:
    >>> length_batches([5, 40, 6, 38, 7], token_budget=80, max_batch=64)
    [[0, 2, 4], [3, 1]]
    >>> length_batches([5, 40, 6, 38, 7], token_budget=80, max_batch=64, shapes=True)
    [[0, 2, 4], [3], [1]]
    >>> bucket_width(17, max_length=128), bucket_rows(3), batch_shapes(max_length=32, token_budget=64, max_batch=8)
    (32, 4, [(1, 16), (2, 16), (4, 16), (1, 32), (2, 32)])
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LENGTH_BUCKETS", "batch_shapes", "bucket_rows", "bucket_width", "length_batches"]

#: Widths a batch is padded up to (then to the model's max_length): report sentences average about 50 tokens.
LENGTH_BUCKETS = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def bucket_width(n: int, *, max_length: int) -> int:
    """The smallest length bucket of at least ``n`` tokens, at most ``max_length`` (``n`` if it is longer)."""
    for b in LENGTH_BUCKETS:
        if b >= n:
            return max(n, min(b, max_length))
    return max(n, max_length)


def bucket_rows(n: int) -> int:
    """The smallest power of two of at least ``n``."""
    return 1 << max(0, n - 1).bit_length()


def _row_cap(width: int, token_budget: int, max_batch: int) -> int:
    """The most rows of ``width`` within the budget and ``max_batch``, as a power of two (at least 1)."""
    fits = max(1, min(max_batch, token_budget // width))
    return 1 << (fits.bit_length() - 1)


def batch_shapes(*, max_length: int, token_budget: int, max_batch: int) -> list[tuple[int, int]]:
    """Every (rows, width) a ``shapes=True`` batch of sentences of at most ``max_length`` tokens can take."""
    widths = sorted({bucket_width(b, max_length=max_length) for b in LENGTH_BUCKETS if b <= max_length} | {max_length})
    shapes = []
    for width in widths:
        cap = _row_cap(width, token_budget, max_batch)
        shapes += [(1 << k, width) for k in range(cap.bit_length())]
    return shapes


def length_batches(
    lengths: Sequence[int], *, token_budget: int, max_batch: int, shapes: bool = False, max_length: int = 512
) -> list[list[int]]:
    """Indices of ``lengths`` in ascending length, grouped so rows x longest <= ``token_budget``.

    A single row longer than the budget gets a batch of its own; no batch has more than
    ``max_batch`` rows. Every index appears in exactly one batch. With ``shapes``, the longest row
    counts as its length bucket (up to ``max_length``) and a batch is cut at a power of two rows.
    """
    if token_budget < 1 or max_batch < 1:
        raise ValueError(f"token_budget ({token_budget}) and max_batch ({max_batch}) must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Ascending order: the newcomer is the longest row of the batch it joins.
        if shapes:
            full = len(current) + 1 > _row_cap(bucket_width(lengths[i], max_length=max_length), token_budget, max_batch)
        else:
            full = (len(current) + 1) * lengths[i] > token_budget or len(current) == max_batch
        if current and full:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
