from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from policytag.core.taxonomy import Taxonomy
from policytag.training.metrics import binarize, multilabel_metrics
from policytag.training.thresholds import decide, tune_thresholds


def test_tuned_threshold_separates_and_takes_the_middle_of_the_best_run() -> None:
    probs = np.array([[0.9], [0.8], [0.3], [0.2], [0.1]])
    y = np.array([[1], [1], [0], [0], [0]])
    [t], [how] = tune_thresholds(probs, y, floor=0.1, default=0.5)
    assert how == "tuned" and 0.3 < t <= 0.8
    assert t == pytest.approx(0.555, abs=0.01)  # the middle of the grid points in (0.30, 0.80]


def test_fallback_for_absent_or_inseparable_labels_and_floor() -> None:
    probs = np.array([[0.01, 0.02, 0.9], [0.02, 0.01, 0.1], [0.01, 0.01, 0.8]])
    y = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 1]])
    t, how = tune_thresholds(probs, y, floor=0.2, default=0.5)
    assert how[0] == "no positives" and t[0] == 0.5
    assert how[1] == "not separable" and t[1] == 0.5  # every grid point >= floor misses the positive
    assert how[2] == "tuned" and 0.2 <= t[2] <= 0.8


def test_a_score_no_better_than_always_on_is_not_tuned() -> None:
    # Positives and negatives get the same scores: every threshold is "all" or "none".
    probs = np.array([[0.3], [0.3], [0.3], [0.3]])
    y = np.array([[1], [0], [0], [1]])
    t, how = tune_thresholds(probs, y, floor=0.1, default=0.5)
    assert how == ["not separable"] and t == [0.5]


def test_other_is_exclusive(taxonomy: Taxonomy) -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((200, len(taxonomy)))
    sets = decide(probs, np.full(len(taxonomy), 0.7), taxonomy)
    assert all(s == ["other"] or "other" not in s for s in sets)
    assert any(s == ["other"] for s in sets) and any(len(s) > 1 for s in sets)
    # A high 'other' probability never adds 'other' to a passing category.
    p = np.zeros((1, len(taxonomy)))
    p[0, taxonomy.index["other"]] = 0.99
    p[0, taxonomy.index["legal_aid"]] = 0.9
    assert decide(p, np.full(len(taxonomy), 0.5), taxonomy) == [["legal_aid"]]


def test_metrics_match_sklearn_on_a_hand_made_case(taxonomy: Taxonomy) -> None:
    truth = [["mediation"], ["mediation", "legal_aid"], ["other"], ["enforcement"], ["legal_aid"]]
    pred = [["mediation"], ["legal_aid"], ["mediation"], ["enforcement"], ["other"]]
    m = multilabel_metrics(truth, pred, taxonomy)
    y, p = binarize(truth, taxonomy), binarize(pred, taxonomy)
    present = [j for j in range(len(taxonomy)) if y[:, j].any()]
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", labels=present, zero_division=0))
    assert m["micro_f1"] == pytest.approx(f1_score(y, p, average="micro", zero_division=0))
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, average=None, zero_division=0)
    for j, label in enumerate(taxonomy.ids):
        assert m["per_label"][label]["precision"] == pytest.approx(prec[j])
        assert m["per_label"][label]["recall"] == pytest.approx(rec[j])
        assert m["per_label"][label]["f1"] == pytest.approx(f1[j])
        assert m["per_label"][label]["support"] == sup[j]
    # By hand: mediation P=1/2 R=1/2; legal_aid P=1 R=1/2; enforcement 1; other 0.
    assert m["per_label"]["legal_aid"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 1.0 + 0.0) / 4)
    assert m["labels_in_macro"] == ["enforcement", "mediation", "legal_aid", "other"]
