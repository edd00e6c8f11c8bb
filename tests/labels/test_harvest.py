from __future__ import annotations

import pytest

from policytag.core.jsonl import DataError
from policytag.labels.harvest import EXAMPLE, parse_harvest_text


def test_pages_keep_their_text_exactly() -> None:
    two = EXAMPLE + EXAMPLE.replace("某县司法局2022年工作总结。", "第一行\n\n  第二行 cut-off")
    pages = parse_harvest_text(two, origin="h.txt")
    assert [p.text for p in pages] == ["某县司法局2022年工作总结。", "第一行\n\n  第二行 cut-off"]
    assert pages[0].province == "四川省" and pages[0].level == "county" and pages[1].origin == "h.txt:13"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("province: 四川省", "province: 四川", None),  # a short name is completed
        ("province: 四川省", "province: 火星省", "'province'"),
        ("level: county", "level: town", "'level'"),
        ("year: 2022", "year: 去年", "'year'"),
        ("doc_type: work_summary", "doc_type: memo", "'doc_type'"),
        ("issuer: 某县司法局\n", "", "'issuer': missing"),
        ("-----\n", "", "no '-----' line"),
    ],
)
def test_bad_headers_are_named(old: str, new: str, message: str | None) -> None:
    text = EXAMPLE.replace(old, new)
    if message is None:
        assert parse_harvest_text(text, origin="h.txt")[0].province == "四川省"
        return
    with pytest.raises(DataError, match=message):
        parse_harvest_text(text, origin="h.txt")


def test_not_a_harvest_file() -> None:
    with pytest.raises(DataError, match="not a harvest file"):
        parse_harvest_text("just text", origin="x.txt")
