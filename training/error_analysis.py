"""Error analysis of out-of-fold predictions: where labellers should look next.

Two views, both of training sentences scored by a model that never saw their locality
(:mod:`policytag.training.oof`): the highest-loss sentences (``errors.jsonl``: a wrong gold label
or a pattern the model lacks) and the most confused label pairs (a predicted label that is not
true, against each true label of the same sentence: ``legal_aid`` answered for a ``mediation``
sentence counts one ``legal_aid ← mediation``). ``other`` takes part like any label, so
``other ← mediation`` is a missed category and ``mediation ← other`` a spurious one.

Example:
    >>> confused_pairs([["mediation"], ["other"]], [["legal_aid"], ["mediation"]])
    [('legal_aid', 'mediation', 1), ('mediation', 'other', 1)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.jsonl import write_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.training.thresholds import decide

__all__ = ["TOP_ERRORS", "confused_pairs", "error_rows", "plot_confused_pairs", "write_error_analysis"]

#: Sentences kept in ``errors.jsonl``: enough for a labelling session, few enough to read.
TOP_ERRORS = 200
_EPS = 1e-6


def sentence_losses(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Binary cross-entropy per sentence, summed over labels (a confident miss costs the most)."""
    p = np.clip(probs, _EPS, 1 - _EPS)
    return -(targets * np.log(p) + (1 - targets) * np.log(1 - p)).sum(axis=1)


def error_rows(
    records: Sequence[dict[str, Any]],
    probs: np.ndarray,
    thresholds: np.ndarray,
    taxonomy: Taxonomy,
    *,
    top: int = TOP_ERRORS,
) -> list[dict[str, Any]]:
    """The ``top`` highest-loss records, highest first, with their true and predicted labels and scores."""
    if probs.shape != (len(records), len(taxonomy)):
        raise ValueError(f"probabilities {probs.shape} do not match {len(records)} records × {len(taxonomy)} labels")
    targets = np.array([taxonomy.multi_hot(r["labels"]) for r in records], dtype=float).reshape(probs.shape)
    losses = sentence_losses(probs, targets)
    predicted = decide(probs, thresholds, taxonomy)
    order = np.argsort(-losses, kind="stable")[:top]
    return [
        {
            "id": records[i].get("id"),
            "doc": records[i]["doc"],
            "text": records[i]["text"],
            "labels": list(records[i]["labels"]),
            "predicted": predicted[i],
            "scores": {label: round(float(probs[i, j]), 4) for j, label in enumerate(taxonomy.ids)},
            "loss": round(float(losses[i]), 4),
        }
        for i in order
    ]


def confused_pairs(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> list[tuple[str, str, int]]:
    """``(false-positive label, true label, count)``, most frequent first (then by name, for a stable order)."""
    counts: Counter[tuple[str, str]] = Counter()
    for true, pred in zip(truth, predicted, strict=True):
        for wrong in set(pred) - set(true):
            counts.update((wrong, t) for t in true)
    return sorted(((a, b, n) for (a, b), n in counts.items()), key=lambda x: (-x[2], x[0], x[1]))


def plot_confused_pairs(pairs: list[tuple[str, str, int]], path: Path, *, title: str, top: int = 20) -> None:
    """Horizontal bars of the ``top`` most confused pairs (ASCII label ids: no CJK font needed)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    shown = pairs[:top][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.32 * max(len(shown), 1)))
    ax.barh([f"{a}  <-  {b}" for a, b, _ in shown], [n for _, _, n in shown], color="#c0504d")
    for y, (_, _, n) in enumerate(shown):
        ax.text(n, y, f" {n}", va="center", fontsize=8)
    ax.set_xlabel("sentences: predicted label (not true)  <-  true label")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_error_analysis(
    records: Sequence[dict[str, Any]],
    probs: np.ndarray,
    thresholds: np.ndarray,
    taxonomy: Taxonomy,
    *,
    errors_path: Path,
    plot_path: Path,
    title: str,
) -> dict[str, Any]:
    """Write ``errors.jsonl`` and the confused-pairs PNG; what the card says about them."""
    rows = error_rows(records, probs, thresholds, taxonomy)
    write_jsonl(errors_path, rows)
    pairs = confused_pairs([r["labels"] for r in records], decide(probs, thresholds, taxonomy))
    plot_confused_pairs(pairs, plot_path, title=title)
    return {
        "n_scored": len(records),
        "n_written": len(rows),
        "n_wrong_written": sum(set(r["labels"]) != set(r["predicted"]) for r in rows),
        "top_pairs": [{"predicted": a, "true": b, "count": n} for a, b, n in pairs[:5]],
    }
