"""Per-label decision thresholds and the one decision rule every predictor uses.

The rule: a category is answered when its probability reaches its threshold; ``other`` is answered
when no category does, and never together with a category.

Example:
    >>> import numpy as np
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()
    >>> t = np.full(len(tax), 0.5)
    >>> p = np.zeros((2, len(tax))); p[0, tax.index["mediation"]] = 0.9; p[1, tax.index["other"]] = 0.2
    >>> decide(p, t, tax)
    [['mediation'], ['other']]
"""

from __future__ import annotations

import numpy as np

from policytag.core.taxonomy import OTHER, Taxonomy

__all__ = ["GRID", "decide", "tune_thresholds"]

# Candidate thresholds: fine enough to matter, coarse enough not to chase single examples.
GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(y & pred))
    fp = float(np.sum(~y & pred))
    fn = float(np.sum(y & ~pred))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def tune_thresholds(
    probs: np.ndarray, targets: np.ndarray, *, floor: float = 0.1, default: float = 0.5
) -> tuple[list[float], list[str]]:
    """One threshold per label maximising that label's F1 on ``(probs, targets)``.

    Among equally good thresholds the middle of the best run is taken (a margin on both sides
    generalises better than an edge). Labels without a positive example get ``default``, and so do
    labels that no threshold separates: best F1 0, or no better than answering the label for every
    sentence (an uninformative score would otherwise be tuned down to the floor and tag everything).
    No threshold goes below ``floor``.

    Returns:
        ``(thresholds, how)`` where ``how[i]`` is ``"tuned"``, ``"no positives"`` or ``"not separable"``.
    """
    if probs.shape != targets.shape or probs.ndim != 2:
        raise ValueError(f"probs {probs.shape} and targets {targets.shape} must be equal 2-d shapes")
    y = targets.astype(bool)
    grid = GRID[floor <= GRID]
    thresholds: list[float] = []
    how: list[str] = []
    for j in range(probs.shape[1]):
        if not y[:, j].any():
            thresholds.append(default)
            how.append("no positives")
            continue
        scores = np.array([_f1(y[:, j], probs[:, j] >= t) for t in grid])
        best = scores.max()
        always_on = _f1(y[:, j], np.ones(len(y), dtype=bool))
        if best <= 0.0 or best <= always_on + 1e-9:
            thresholds.append(default)
            how.append("not separable")
            continue
        best_idx = np.flatnonzero(np.isclose(scores, best))
        thresholds.append(float(grid[best_idx[len(best_idx) // 2]]))
        how.append("tuned")
    return thresholds, how


def decide(probs: np.ndarray, thresholds: np.ndarray | list[float], taxonomy: Taxonomy) -> list[list[str]]:
    """Label sets for a batch of probability rows (taxonomy order)."""
    t = np.asarray(thresholds, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != len(taxonomy) or t.shape != (len(taxonomy),):
        raise ValueError(f"probs {probs.shape} / thresholds {t.shape} do not match {len(taxonomy)} labels")
    other = taxonomy.index[OTHER]
    passed = probs >= t
    passed[:, other] = False
    out = []
    for row in passed:
        ids = [taxonomy.ids[j] for j in np.flatnonzero(row)]
        out.append(ids or [OTHER])
    return out
