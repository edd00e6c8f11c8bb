"""``policytag labels agreement``: how well Label Studio annotators agree, per label, and the open conflicts.

Counted annotations are those consolidation counts (``pull.latest_votes``: each annotator's latest
submitted, valid annotation per sentence). With two annotators: Cohen's κ per label over the sentences
both annotated. With more: Fleiss' κ per label over the sentences annotated by the most common number
(at least two) of annotators, since Fleiss' κ needs the same number of raters per item.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.labels.agreement import cohen_kappa, exact_match, fleiss_kappa
from policytag.labels.labelstudio.pull import consolidate, latest_votes

__all__ = ["AgreementReport", "compute_agreement", "render_agreement"]


@dataclass
class AgreementReport:
    """Per-label κ (``None`` where undefined), the method, the sentences it rests on, and the conflicts."""

    method: str  # "cohen", "fleiss" or "none"
    annotators: list[str]
    items: int
    per_label: dict[str, float | None] = field(default_factory=dict)
    exact_match: float | None = None
    raters_per_item: int | None = None
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def compute_agreement(log: list[dict[str, Any]], taxonomy: Taxonomy) -> AgreementReport:
    """Agreement of the annotators in the annotation log (see the module docstring)."""
    votes, _ = latest_votes(log)
    annotators = sorted({a for v in votes.values() for a in v})
    conflicts = consolidate(log, [], taxonomy).conflicts
    shared = {sid: v for sid, v in votes.items() if len(v) >= 2}
    if len(annotators) < 2 or not shared:
        return AgreementReport(
            "none", annotators, 0, conflicts=conflicts, note="no sentence has annotations by two or more annotators"
        )
    if len(annotators) == 2:
        a, b = annotators
        items = [v for v in shared.values() if a in v and b in v]
        la, lb = [v[a] for v in items], [v[b] for v in items]
        per_label = {i: _clean(cohen_kappa([int(i in x) for x in la], [int(i in y) for y in lb])) for i in taxonomy.ids}
        return AgreementReport("cohen", annotators, len(items), per_label, round(exact_match(la, lb), 4), 2, conflicts)
    sizes = Counter(len(v) for v in shared.values())
    m = max(sizes, key=lambda k: (sizes[k], k))
    items = [v for v in shared.values() if len(v) == m]
    per_label = {}
    for i in taxonomy.ids:
        table = [
            [sum(i in labels for labels in v.values()), sum(i not in labels for labels in v.values())] for v in items
        ]
        per_label[i] = _clean(fleiss_kappa(table))
    exact = sum(1 for v in items if len({tuple(sorted(x)) for x in v.values()}) == 1) / len(items)
    note = (
        ""
        if len(sizes) == 1
        else f"{sum(sizes.values()) - len(items)} sentences with another number of raters left out"
    )
    return AgreementReport("fleiss", annotators, len(items), per_label, round(exact, 4), m, conflicts, note)


def render_agreement(report: AgreementReport, taxonomy: Taxonomy) -> str:
    """The report as a plain-text table followed by the conflicts."""
    lines = []
    if report.method == "none":
        lines.append(f"agreement: {report.note} (annotators: {', '.join(report.annotators) or 'none'})")
    else:
        name = "Cohen's κ" if report.method == "cohen" else f"Fleiss' κ ({report.raters_per_item} raters per sentence)"
        lines.append(f"{name} over {report.items} sentences; annotators: {', '.join(report.annotators)}")
        if report.note:
            lines.append(report.note)
        width = max(len(i) for i in taxonomy.ids)
        lines.append(f"{'label':<{width}}  kappa")
        for i in taxonomy.ids:
            k = report.per_label.get(i)
            lines.append(f"{i:<{width}}  {'n/a (constant)' if k is None else f'{k:.3f}'}")
        if report.exact_match is not None:
            lines.append(f"exact match of the label set: {report.exact_match:.1%}")
    lines.append(f"conflicts (ties, left out of training until resolved): {len(report.conflicts)}")
    for c in report.conflicts:
        votes = "; ".join(f"{a}: {'+'.join(v)}" for a, v in c["votes"].items())
        lines.append(f"  {c['id']}  {c.get('text') or ''}\n      {votes}")
    return "\n".join(lines) + "\n"
