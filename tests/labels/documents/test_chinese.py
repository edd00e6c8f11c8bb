"""Traditional → simplified: the shortcut that skips text with nothing to convert changes no answer of zhconv."""

from __future__ import annotations

import zhconv
from zhconv import zhconv as tables

from policytag.core.jsonl import read_jsonl
from policytag.labels.documents.chinese import needs_simplifying, to_simplified
from tests.support.paths import ROOT


def test_the_shortcut_gives_zhconvs_answer_on_reports_their_traditional_forms_and_every_table_entry() -> None:
    gold = [str(r["text"]) for r in read_jsonl(ROOT / "labels" / "gold.jsonl")][:3000]
    texts = [
        *gold,
        *(zhconv.convert(t, "zh-tw") for t in gold[:1000]),
        *(zhconv.convert(t, "zh-hk") for t in gold[1000:1500]),
    ]
    keys = list(tables.getdict("zh-cn"))
    texts += keys + [
        f"前后{k}之间" for k in keys
    ]  # every entry alone and inside other text ("反覆" has no traditional character)
    assert [to_simplified(t) for t in texts] == [zhconv.convert(t, "zh-cn") for t in texts]
    # and the shortcut does skip: most mainland report sentences have nothing to convert
    assert sum(not needs_simplifying(t) for t in gold) > 0.9 * len(gold)
    assert needs_simplifying("推進法治") and needs_simplifying("及時回覆") and not needs_simplifying("依法行政")
