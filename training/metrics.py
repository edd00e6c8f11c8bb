"""Multi-label metrics: per-label precision/recall/F1/support, micro-F1 and macro-F1.

``macro_f1`` averages the labels that occur in the evaluated data (support > 0): a label absent
from a test document has no defined recall, and counting it as 0 (or 1) would say more about the
document than about the model. ``labels_in_macro`` lists the labels averaged.

``other`` repeats ``other``'s row at the top, because it is not a label like the rest: it is
answered when no category passes its threshold. Its precision is the share of sentences left
without a category that truly have none; its recall the share of category-less sentences the
thresholds leave alone. Low precision means missed categories, low recall spurious ones.

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> m = multilabel_metrics([["mediation"], ["other"]], [["mediation"], ["legal_aid"]], load_taxonomy())
    >>> m["per_label"]["mediation"]["f1"], m["macro_f1"]
    (1.0, 0.5)
    >>> m["other"]["precision"], m["other"]["recall"]
    (0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from policytag.core.taxonomy import OTHER, Taxonomy

__all__ = ["binarize", "multilabel_metrics"]


def binarize(label_sets: Sequence[Sequence[str]], taxonomy: Taxonomy) -> np.ndarray:
    """A 0/1 matrix (items × labels, taxonomy order)."""
    return np.array([taxonomy.multi_hot(s) for s in label_sets], dtype=int).reshape(len(label_sets), len(taxonomy))


def multilabel_metrics(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], taxonomy: Taxonomy
) -> dict[str, Any]:
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true label sets but {len(predicted)} predictions")
    if not truth:
        raise ValueError("no items to evaluate")
    y = binarize(truth, taxonomy)
    p = binarize(predicted, taxonomy)
    prec, rec, f1, support = precision_recall_fscore_support(y, p, average=None, zero_division=0)
    _, _, micro_f1, _ = precision_recall_fscore_support(y, p, average="micro", zero_division=0)
    present = [j for j in range(len(taxonomy)) if support[j] > 0]
    per_label = {
        label_id: {
            "precision": float(prec[j]),
            "recall": float(rec[j]),
            "f1": float(f1[j]),
            "support": int(support[j]),
            "predicted": int(p[:, j].sum()),
        }
        for j, label_id in enumerate(taxonomy.ids)
    }
    return {
        "n": len(truth),
        "macro_f1": float(np.mean([f1[j] for j in present])) if present else 0.0,
        "micro_f1": float(micro_f1),
        "exact_match": float(np.mean(np.all(y == p, axis=1))),
        "labels_in_macro": [taxonomy.ids[j] for j in present],
        "per_label": per_label,
        "other": dict(per_label[OTHER], rule="answered when no category passes its threshold"),
    }
