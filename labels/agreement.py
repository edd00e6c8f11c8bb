"""Inter-annotator agreement for multi-label sets: exact match, Cohen's κ and Fleiss' κ per label.

Example:
    >>> round(cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]), 3)
    0.5
    >>> exact_match([["a"], ["b", "c"]], [["a"], ["c", "b"]])
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["cohen_kappa", "exact_match", "fleiss_kappa", "per_label_cohen"]


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float:
    """Cohen's κ of two binary ratings; ``nan`` when chance agreement is total (a constant label)."""
    if len(a) != len(b) or not a:
        raise ValueError("cohen_kappa needs two non-empty rating lists of equal length")
    n = len(a)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if math.isclose(expected, 1.0):
        return float("nan")
    return (observed - expected) / (1 - expected)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss' κ from a table ``counts[item][category]`` of how many raters chose each category.

    Every item must have the same number of raters (at least two).
    """
    if not counts:
        raise ValueError("fleiss_kappa needs at least one item")
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        raise ValueError("fleiss_kappa needs the same number (>= 2) of raters for every item")
    n_items = len(counts)
    n_cat = len(counts[0])
    p_j = [sum(row[j] for row in counts) / (n_items * raters) for j in range(n_cat)]
    p_i = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts]
    p_bar = sum(p_i) / n_items
    p_e = sum(p * p for p in p_j)
    if math.isclose(p_e, 1.0):
        return float("nan")
    return (p_bar - p_e) / (1 - p_e)


def exact_match(a: Sequence[Sequence[str]], b: Sequence[Sequence[str]]) -> float:
    """Share of items whose two label sets are identical."""
    if len(a) != len(b) or not a:
        raise ValueError("exact_match needs two non-empty lists of equal length")
    return sum(1 for x, y in zip(a, b, strict=True) if set(x) == set(y)) / len(a)


def per_label_cohen(
    a: Sequence[Sequence[str]], b: Sequence[Sequence[str]], label_ids: Sequence[str]
) -> dict[str, float]:
    """Cohen's κ of each label, treating each label as a yes/no rating per item."""
    return {label: cohen_kappa([int(label in x) for x in a], [int(label in y) for y in b]) for label in label_ids}
