from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policytag.core.jsonl import DataError
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import (
    data_fingerprint,
    document_split,
    leave_one_document_out,
    load_dataset_dict,
    read_labelled,
)


def _recs(spec: dict[str, list[list[str]]]) -> list[dict]:
    return [
        {"id": f"{doc}:{i}", "doc": doc, "text": f"{doc}句{i}", "labels": labels}
        for doc, rows in spec.items()
        for i, labels in enumerate(rows)
    ]


def test_read_labelled_errors_name_file_and_line(tmp_path: Path, taxonomy: Taxonomy) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "好", "labels": ["mediation"]}\n{"text": "坏", "labels": ["nope"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.jsonl:2: field 'labels': unknown label id 'nope'"):
        read_labelled(p, taxonomy)
    p.write_text('{"text": "好", "labels": ["mediation"]}\n\n{"text": ""}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.jsonl:3: field 'text'"):
        read_labelled(p, taxonomy)
    p.write_text('{"text": "好", "labels": ["mediation"]}\nnot json\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.jsonl:2: invalid JSON"):
        read_labelled(p, taxonomy)
    p.write_text('{"text": "好", "labels": ["mediation", "legal_aid"]}\n', encoding="utf-8")
    [rec] = read_labelled(p, taxonomy)
    assert rec["doc"] == "d" and rec["labels"] == ["mediation", "legal_aid"]


def test_dataset_dict_has_multi_hot_labels(taxonomy: Taxonomy) -> None:
    recs = _recs({"a": [["mediation"], ["other"]], "b": [["legal_aid"]], "c": [["enforcement", "legal_aid"]]})
    dd = load_dataset_dict(document_split(recs, taxonomy, test_docs=["c"], validation_docs=["b"]), taxonomy)
    assert set(dd) == {"train", "validation", "test"}
    row = dd["test"][0]
    assert row["labels"][taxonomy.index["enforcement"]] == 1.0
    assert row["labels"][taxonomy.index["legal_aid"]] == 1.0
    assert sum(row["labels"]) == 2.0 and len(row["labels"]) == len(taxonomy)


def test_document_split_never_shares_a_document(taxonomy: Taxonomy) -> None:
    recs = _recs({d: [["mediation"], ["other"]] for d in "abcdef"})
    split = document_split(recs, taxonomy, test_docs=["a", "b"], validation_docs=2)
    parts = [set(split.docs(p)) for p in ("train", "validation", "test")]
    assert parts[2] == {"a", "b"} and len(parts[1]) == 2
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sum(len(getattr(split, p)) for p in ("train", "validation", "test")) == len(recs)


def test_validation_choice_keeps_rare_labels_in_training(taxonomy: Taxonomy) -> None:
    # Only document "b" has legal_aid: choosing it for validation would remove the label from policytag.training.
    recs = _recs({"a": [["other"]], "b": [["legal_aid"], ["mediation"]], "c": [["mediation"]], "t": [["other"]]})
    for seed in range(10):
        split = document_split(recs, taxonomy, test_docs=["t"], validation_docs=1, seed=seed)
        assert "b" in split.docs("train")
        assert split.docs("validation") in (["a"], ["c"])


def test_leave_one_document_out_folds(root: Path, taxonomy: Taxonomy) -> None:
    gold = read_labelled(root / "labels" / "gold.jsonl", taxonomy, require_doc=True)
    folds = leave_one_document_out(gold, taxonomy)
    docs = sorted({r["doc"] for r in gold})
    assert [f.docs("test") for f in folds] == [[d] for d in docs]
    for f in folds:
        train, val, test = (set(f.docs(p)) for p in ("train", "validation", "test"))
        assert not (train & val) and not (train & test) and not (val & test)
        assert len(train | val | test) == len(docs)
        # Every label of the non-test documents is still in training where the data allows it.
        train_labels = {label for r in f.train for label in r["labels"]}
        val_only = {label for r in f.validation for label in r["labels"]} - train_labels
        for label in val_only:
            holders = {r["doc"] for r in gold if label in r["labels"]} - test
            assert len(holders) == 1, f"{label} could have stayed in training in fold {f.name}"


def test_fingerprint_changes_with_labels() -> None:
    a = _recs({"a": [["mediation"]]})
    b = _recs({"a": [["legal_aid"]]})
    assert data_fingerprint(a) != data_fingerprint(b)
    assert data_fingerprint(a) == data_fingerprint(_recs({"a": [["mediation"]]}))


def test_locality_folds_keep_each_place_on_one_side(taxonomy: Taxonomy) -> None:
    from policytag.labels.dataset import locality_folds

    recs: list[dict[str, Any]] = [
        {"id": f"{d}:{i}", "doc": d, "text": "调解", "labels": ["mediation"], "province": "甲省", "locality": loc}
        for loc, docs in {"A市": ["a1", "a2", "a3"], "B县": ["b1"], "C区": ["c1", "c2"], "D市": ["d1"]}.items()
        for d in docs
        for i in range(3)
    ] + [{"id": f"x:{i}", "doc": "x", "text": "调解", "labels": ["mediation"]} for i in range(3)]
    folds = locality_folds(recs, taxonomy, folds=3, validation_docs=1, seed=1)
    tested: list[str] = [r["doc"] for f in folds for r in f.test]
    assert sorted(set(tested)) == sorted({r["doc"] for r in recs}) and len(tested) == len(recs)
    for f in folds:
        assert not set(f.docs("test")) & set(f.docs("validation"))
        a_docs = {"a1", "a2", "a3"} & set(f.docs("test"))
        assert a_docs in (set(), {"a1", "a2", "a3"})  # the three documents of A市 are never split
    with pytest.raises(ValueError, match="at least 6 localities"):
        locality_folds(recs, taxonomy, folds=6)
