from __future__ import annotations

import re
from pathlib import Path

import pytest

from policytag.core.jsonl import DataError
from policytag.core.taxonomy import Taxonomy, TaxonomyError, check_record_labels, load_taxonomy
from tests.support.paths import SHARED


def test_loads_with_other_and_unique_ids(taxonomy: Taxonomy) -> None:
    assert len(taxonomy) == 13
    assert taxonomy.ids[-1] == "other"
    assert len(set(taxonomy.ids)) == len(taxonomy.ids)
    assert taxonomy["legal_aid"].zh == "法律援助"
    assert all(label.en for label in taxonomy.labels)


@pytest.mark.skipif(not (SHARED / "TAXONOMY.md").exists(), reason="shared/TAXONOMY.md not beside the checkout")
def test_yaml_carries_exactly_the_shared_taxonomy(taxonomy: Taxonomy) -> None:
    md = (SHARED / "TAXONOMY.md").read_text(encoding="utf-8")
    rows = [m.groups() for m in re.finditer(r"^\| (\w+) \| ([^|]+) \| (.+) \|$", md, re.M) if m.group(1) != "id"]
    assert [(r[0], r[1].strip(), r[2].strip()) for r in rows] == [
        (label.id, label.zh, label.description) for label in taxonomy.labels
    ]
    assert taxonomy.rules.strip() == md.split("Annotation rules:\n", 1)[1].strip()


def test_check_labels_rules(taxonomy: Taxonomy) -> None:
    assert taxonomy.check_labels(["mediation", "legal_aid"]) == ["mediation", "legal_aid"]
    for bad, msg in [
        ([], "empty"),
        (["nope"], "unknown label id 'nope'"),
        (["other", "mediation"], "exclusive"),
        (["mediation", "mediation"], "repeated"),
        ("mediation", "expected a list"),
    ]:
        with pytest.raises(ValueError, match=msg):
            taxonomy.check_labels(bad)


def test_multi_hot_round_trip(taxonomy: Taxonomy) -> None:
    vec = taxonomy.multi_hot(["legal_aid", "enforcement"])
    assert sum(vec) == 2 and vec[0] == 1.0
    assert taxonomy.from_multi_hot(vec) == ["enforcement", "legal_aid"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tax.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_bad_taxonomy_files(tmp_path: Path) -> None:
    label = "- {{id: {id}, zh: 名, en: n, description: d}}\n"
    with pytest.raises(TaxonomyError, match="duplicate label ids"):
        load_taxonomy(
            _write(tmp_path, "labels:\n" + label.format(id="a") + label.format(id="a") + label.format(id="other"))
        )
    with pytest.raises(TaxonomyError, match="'other' is missing"):
        load_taxonomy(_write(tmp_path, "labels:\n" + label.format(id="a")))
    with pytest.raises(TaxonomyError, match="lacks zh"):
        load_taxonomy(_write(tmp_path, "labels:\n- {id: other, en: n, description: d}\n"))
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(_write(tmp_path, "labels: [\n"))
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_record_errors_name_file_line_and_field(taxonomy: Taxonomy) -> None:
    with pytest.raises(DataError) as e:
        check_record_labels(taxonomy, {"labels": ["bogus"]}, path="x.jsonl", line=7)
    assert str(e.value).startswith("x.jsonl:7: field 'labels': unknown label id 'bogus'")
    assert (e.value.path, e.value.line, e.value.field) == ("x.jsonl", 7, "labels")
