from __future__ import annotations

import math

import pytest
from sklearn.metrics import cohen_kappa_score

from policytag.labels.agreement import cohen_kappa, exact_match, fleiss_kappa, per_label_cohen


@pytest.mark.parametrize(
    ("a", "b"),
    [([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1]), ([0, 1, 1, 1, 0], [0, 1, 1, 1, 0]), ([1, 0, 1, 0], [0, 1, 0, 1])],
)
def test_cohen_matches_sklearn(a: list[int], b: list[int]) -> None:
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_constant_ratings_give_nan() -> None:
    assert math.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))


def test_fleiss_known_value() -> None:
    # Two raters: Fleiss' κ on this table is 1/3 (hand computed: P̄ = 2/3, P_e = 1/2).
    table = [[2, 0], [0, 2], [1, 1], [1, 1], [2, 0], [0, 2]]
    assert fleiss_kappa(table) == pytest.approx(1 / 3)
    assert fleiss_kappa([[3, 0], [0, 3]]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])


def test_exact_match_and_per_label() -> None:
    a = [["x"], ["x", "y"], ["y"]]
    b = [["x"], ["y"], ["y"]]
    assert exact_match(a, b) == pytest.approx(2 / 3)
    k = per_label_cohen(a, b, ["x", "y"])
    assert k["y"] == pytest.approx(1.0)
    assert k["x"] == pytest.approx(cohen_kappa_score([1, 1, 0], [1, 0, 0]))
