from __future__ import annotations

from policytag.labels.dedup import jaccard, minhash, near_duplicate_groups, sentence_key

REPORT = (
    "2022年,某县司法局坚持以习近平法治思想为指导,全面推进法治政府建设。全年办理法律援助案件312件,"
    "调解矛盾纠纷1568件,调解成功率98.6%。深化行政复议体制改革,受理行政复议案件45件。"
    "推进社区矫正规范化建设,在册社区矫正对象126人,无一脱管漏管。"
)


def test_sentence_key_ignores_spacing_punctuation_and_script() -> None:
    assert sentence_key("推进 社区矫正规范化建设。") == sentence_key("推進社區矯正規範化建設")
    assert sentence_key("推进社区矫正规范化建设") != sentence_key("推进社区矫正信息化建设")


def test_mirror_with_other_chrome_is_a_near_duplicate() -> None:
    mirror = "首页 > 新闻中心 > 正文\n" + REPORT + "\n【打印】【关闭】"
    other = (
        REPORT.replace("某县", "另一县").replace("312", "87").replace("1568", "402") + "全县新建法治文化广场3个。" * 3
    )
    unrelated = "今年以来,市政务服务中心深化一网通办改革,推行告知承诺制,取消证明事项52项。" * 3
    assert jaccard(minhash(REPORT), minhash(mirror)) >= 0.5
    groups = near_duplicate_groups({"gov": REPORT, "mirror": mirror, "unrelated": unrelated})
    assert groups == [["gov", "mirror"], ["unrelated"]]
    # A report of another place with other figures shares much wording but is not a copy at 0.9.
    assert near_duplicate_groups({"a": REPORT, "b": other}, threshold=0.9) == [["a"], ["b"]]
