"""The grouped-CV figure a model folder quotes: one candidate's row of a ``policytag compare`` report.

A model card must say what to expect on reports of places the model has never seen, and that is the
grouped cross-validation of the config it was trained with, not its own validation documents. The
config names the report (``cv_report``, e.g. ``training/results/compare.json``, which ``make
compare`` regenerates) and its row (``cv_candidate``); training copies that row's figures into the
manifest (``grouped_cv``) and the card.

Example:
    >>> figure = read_cv_figure("training/results/compare.json", "tfidf-search")
    >>> sorted(figure)[:3], figure["candidate"]
    (['candidate', 'config', 'data'], 'tfidf-search')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policytag.core.jsonl import read_json_object
from policytag.core.paths import find_input

__all__ = ["read_cv_figure"]

# The keys of a candidate's row that the manifest keeps (compare.json has more: folds, per-label F1).
_KEPT = ("macro_f1_mean", "macro_f1_std", "macro_f1_pooled", "macro_f1_ci95", "micro_f1_mean", "other")


def read_cv_figure(report: str | Path, candidate: str) -> dict[str, Any]:
    """``candidate``'s grouped-CV figures in the compare report ``report``; errors name the file and what is missing."""
    path = find_input(report)
    data = read_json_object(path, missing=f"{report}: no such compare report (run `make compare`)")
    rows = data.get("candidates")
    if not isinstance(rows, list):
        raise ValueError(f"{path}: 'candidates' missing: not a `policytag compare` report")
    by_name = {row.get("name"): row for row in rows if isinstance(row, dict)}
    if candidate not in by_name:
        raise ValueError(f"{path}: no candidate {candidate!r} (candidates: {', '.join(map(str, by_name))})")
    row = by_name[candidate]
    missing = [k for k in _KEPT if k not in row]
    if missing:
        raise ValueError(f"{path}: candidate {candidate!r} lacks {missing}")
    return {
        "source": str(report),
        "candidate": candidate,
        "config": row.get("config"),
        "data": data.get("data"),
        "grouping": data.get("grouping"),
        **{k: row[k] for k in _KEPT},
    }
