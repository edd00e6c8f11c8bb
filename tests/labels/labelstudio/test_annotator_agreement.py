"""Agreement between Label Studio annotators."""

from __future__ import annotations

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.annotator_agreement import compute_agreement
from tests.support.labelstudio import annotation_record


def test_agreement_cohen_and_fleiss(taxonomy: Taxonomy) -> None:
    two = [
        annotation_record("a", "x", ["mediation"], 1, "t"),
        annotation_record("a", "y", ["mediation"], 2, "t"),
        annotation_record("b", "x", ["legal_aid"], 3, "t"),
        annotation_record("b", "y", ["mediation"], 4, "t"),
        annotation_record("c", "x", ["other"], 5, "t"),
        annotation_record("c", "y", ["other"], 6, "t"),
    ]
    report = compute_agreement(two, taxonomy)
    assert report.method == "cohen" and report.items == 3 and report.exact_match == 0.6667
    assert report.per_label["other"] == 1.0 and report.per_label["enforcement"] is None
    assert [c["id"] for c in report.conflicts] == ["b"]
    three = [
        *two,
        annotation_record("a", "z", ["mediation"], 7, "t"),
        annotation_record("b", "z", ["legal_aid"], 8, "t"),
    ]
    report = compute_agreement(three, taxonomy)
    assert report.method == "fleiss" and report.raters_per_item == 3 and report.items == 2
    assert report.conflicts == []  # 2 of 3 agree on b
    assert compute_agreement(two[:1], taxonomy).method == "none"
