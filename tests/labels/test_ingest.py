from __future__ import annotations

from collections import Counter
from dataclasses import replace

from policytag.labels.exclusions import ExcludedSource, Fingerprints
from policytag.labels.harvest import EXAMPLE, HarvestedPage, parse_harvest_text
from policytag.labels.ingest import IngestResult, ingest

BASE = parse_harvest_text(EXAMPLE, origin="h.txt")[0]
# Distinct wording per page (pages of one template would be near-duplicates of each other).
TOPICS = (
    "全年共办理法律援助案件一百余件",
    "调解邻里婚姻家庭纠纷八百多起",
    "推进社区矫正规范化建设成效明显",
    "深化行政复议体制改革提速增效",
    "审查政府规范性文件四十多件",
    "开展八五普法宣传进万家活动",
    "建成乡镇公共法律服务工作站",
    "组织律师为民营企业法治体检",
    "推行证明事项告知承诺制度",
    "开展行政执法案卷评查工作",
    "重大行政决策目录向社会公布",
    "落实党政主要负责人述法制度",
    "打造法治文化主题公园两处",
    "十二三四八热线接听咨询量上升",
    "安置帮教刑满释放人员就业",
    "化解行政争议实质性成效好",
    "立法联系点收集意见建议多条",
    "法律顾问参与政府合同审查",
    "综合行政执法改革向镇街延伸",
    "优化营商环境条例宣讲活动",
    "智慧矫正中心建成投入使用",
    "一网通办事项占比达到九成",
    "人民调解员队伍培训全覆盖",
    "行政机关负责人出庭应诉率提升",
)


def _body(i: int, place: str) -> str:
    picked = [TOPICS[(3 * i + j) % len(TOPICS)] for j in range(3)]
    # Repeated: long enough not to be a stub, without adding wording that pages would share.
    return f"{place}司法局工作总结。" + "。".join(picked * 3) + f"。{place}下一步将继续推进"


def _page(i: int, *, place: str, url: str | None = None, **kw: object) -> HarvestedPage:
    text = _body(i, place)
    fields = {"url": url or f"https://x{i}.gov.cn/a.html", "locality": place, "text": text, "origin": f"h.txt:{i:03d}"}
    return replace(BASE, **{**fields, **kw})  # type: ignore[arg-type]


def _run(pages: list[HarvestedPage], **kw: object) -> IngestResult:
    args: dict[str, object] = {
        "manifest": [],
        "seed_texts": {},
        "excluded": [],
        "fingerprints": Fingerprints(pages=[]),
        "retrieved": "2026-12-03",
        "target_sentences": 10_000,
        "per_locality": 2,
        "next_index": 5,
    }
    args.update(kw)
    return ingest(pages, **args)  # type: ignore[arg-type]


def test_exclusions_stubs_and_copies_are_dropped_with_reasons() -> None:
    listed = ExcludedSource("天津市静海区", "静海区", "county", 2022, 2025, "http://www.tjjh.gov.cn/x.html", "t")
    good = _page(1, place="甲市乙县")
    pages = [
        _page(0, place="天津市静海区", year=2023),
        good,
        replace(good, url="https://mirror.example.com/1.html", text="首页>正文\n" + good.text, origin="h.txt:900"),
        _page(2, place="丙市", text="太短。"),
        _page(3, place="丁市"),
    ]
    result = _run(pages, excluded=[listed])
    reasons = {r.origin: r.reason for r in result.rejected}
    assert reasons["h.txt:000"].startswith("excluded: office 静海区")
    assert reasons["h.txt:002"].startswith("stub")
    assert reasons["h.txt:900"].startswith("duplicate: near-duplicate of https://x1.gov.cn")  # the gov.cn copy stays
    assert [p.locality for p in result.kept] == ["甲市乙县", "丁市"]
    assert result.duplicates_of == {"https://x1.gov.cn/a.html": ["https://mirror.example.com/1.html"]}


def test_selection_takes_localities_in_turn_and_caps_each() -> None:
    pages = [_page(i, place="大市") for i in range(5)] + [_page(5 + i, place=f"小{i}县") for i in range(3)]
    result = _run(pages, per_locality=2)
    chosen = [r.locality for r in result.selected]
    assert chosen.count("大市") == 2 and sorted(set(chosen)) == ["大市", "小0县", "小1县", "小2县"]
    # The first round gives every locality one document before any gets a second.
    assert len(set(chosen[:4])) == 4
    files = [r.file for r in result.selected]
    assert files[0].startswith("005_") and all(r.truncated for r in result.selected)


def test_selection_stops_at_the_sentence_target() -> None:
    pages = [_page(i, place=f"{i}县") for i in range(6)]
    few = _run(pages, target_sentences=10)
    assert 1 <= len(few.selected) < 6


def test_selection_prefers_what_the_gold_set_lacks() -> None:
    aid = _page(0, place="甲县", text="甲县法律援助中心办理法律援助案件。" * 5 + "法律援助工作站覆盖全县乡镇。" * 5)
    plain = _page(1, place="甲县", text="甲县召开全县法治政府建设推进会议。" * 5 + "会议部署年度普法工作任务。" * 5)
    short_of_aid = _run([plain, aid], per_locality=1, label_counts=Counter({"legal_publicity": 500}))
    assert [p.text for p in short_of_aid.selected_pages] == [aid.text]
    short_of_publicity = _run([plain, aid], per_locality=1, label_counts=Counter({"legal_aid": 500}))
    assert [p.text for p in short_of_publicity.selected_pages] == [plain.text]


def test_a_seed_page_is_not_its_own_duplicate_and_a_copy_of_a_seed_is() -> None:
    from policytag.labels.manifest import ManifestRow

    page = _page(0, place="甲县")
    row = ManifestRow.from_text(
        file="005_x.txt", text=page.text, url=page.url, title="t", issuer="i", locality="甲县", province="四川省",
        level="county", year=2022, doc_type="news", retrieved="2026-12-03", truncated=True, source="test",
    )  # fmt: skip
    mirror = replace(page, url="https://mirror.example.com/a", origin="h.txt:500")
    again = _run([mirror, page], manifest=[row], seed_texts={row.file: page.text})
    assert [p.url for p in again.kept] == [page.url] and not again.selected
    assert [r.url for r in again.rejected] == [mirror.url]
