from __future__ import annotations

import json
from pathlib import Path

import pytest

from policytag.core.jsonl import DataError
from policytag.labels.manifest import ManifestRow, read_manifest, write_manifest


def _row(**kw: object) -> ManifestRow:
    fields: dict[str, object] = {
        "url": "https://example.gov.cn/a.html",
        "title": "某县2022年法治政府建设情况报告",
        "issuer": "某县人民政府",
        "locality": "某市某县",
        "province": "四川省",
        "level": "county",
        "year": 2022,
        "doc_type": "annual_report",
        "retrieved": "2026-12-03",
        "truncated": True,
        "source": "test",
    }
    fields.update(kw)
    return ManifestRow.from_text(file="005_a.txt", text="某县司法局。", **fields)


def test_round_trip_and_file_check(tmp_path: Path) -> None:
    row = _row()
    (tmp_path / row.file).write_text("某县司法局。", encoding="utf-8")
    write_manifest(tmp_path / "manifest.jsonl", [row])
    [back] = read_manifest(tmp_path / "manifest.jsonl")
    assert back == row and back.doc == "005_a"
    back.check_file(tmp_path)
    (tmp_path / row.file).write_text("某县司法局!", encoding="utf-8")
    with pytest.raises(DataError, match="sha256"):
        back.check_file(tmp_path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "town"}, "level"),
        ({"doc_type": "memo"}, "doc_type"),
        ({"year": "2022"}, "year"),
        ({"retrieved": "3 Dec 2026"}, "retrieved"),
        ({"sha256": "abc"}, "sha256"),
        ({"locality": " "}, "locality"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path: Path, change: dict[str, object], field: str) -> None:
    good = _row().to_dict()
    path = tmp_path / "manifest.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "file": "b.txt", **change}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_manifest(path)
    assert err.value.line == 2 and err.value.field == field


def test_missing_field_and_repeated_file(tmp_path: Path) -> None:
    good = _row().to_dict()
    path = tmp_path / "manifest.jsonl"
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "province"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="'province': missing"):
        read_manifest(path)
    path.write_text((json.dumps(good) + "\n") * 2, encoding="utf-8")
    with pytest.raises(DataError, match="already has a row"):
        read_manifest(path)
