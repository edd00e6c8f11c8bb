from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from policytag.core.splitter import split_sentences


def texts(s: str) -> list[str]:
    return [x.text for x in split_sentences(s)]


def test_splits_at_full_width_terminators() -> None:
    assert texts("第一句。第二句！第三句？") == ["第一句。", "第二句！", "第三句？"]


def test_splits_at_ascii_terminators_before_cjk() -> None:
    assert texts("欢迎访问政策法规网!首页?好") == ["欢迎访问政策法规网!", "首页?", "好"]


def test_semicolons_split_enumerations() -> None:
    s = "一是加强执法监督；二是深化调解工作；三是做好法律援助。"
    assert texts(s) == ["一是加强执法监督；", "二是深化调解工作；", "三是做好法律援助。"]
    assert texts("甲;乙") == ["甲;", "乙"]


def test_line_breaks_split_and_blank_lines_vanish() -> None:
    assert texts("首页\n\n  \n\u3000\u3000正文一段\r\n尾") == ["首页", "正文一段", "尾"]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert texts("他说：“法治是最好的营商环境。”随后散会。") == ["他说：“法治是最好的营商环境。”", "随后散会。"]
    assert texts("（详见附件。）下一句") == ["（详见附件。）", "下一句"]
    assert texts("真的吗？！”好") == ["真的吗？！”", "好"]
    assert texts('他说:"好。"然后') == ['他说:"好。"', "然后"]


def test_ascii_double_quote_opening_the_next_sentence_is_not_taken() -> None:
    assert texts('好。"下一句"') == ["好。", '"下一句"']


def test_numbers_dates_and_urls_are_never_split() -> None:
    assert texts("增长3.5个百分点，于2024.03.22发布。") == ["增长3.5个百分点，于2024.03.22发布。"]
    assert texts("见 http://a.gov.cn/x.php?id=3&b=4 页面") == ["见 http://a.gov.cn/x.php?id=3&b=4 页面"]


def test_runs_of_terminators_stay_together() -> None:
    assert texts("好！！！再见") == ["好！！！", "再见"]


def test_empty_and_whitespace_only_input() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t\u3000\n") == []


def test_offsets_round_trip() -> None:
    s = "  标题\n\n\u3000\u3000一是抓落实；二是强监督。“好！”\n结尾  "
    pieces = split_sentences(s)
    assert [p.text for p in pieces] == ["标题", "一是抓落实；", "二是强监督。", "“好！”", "结尾"]
    for p in pieces:
        assert s[p.start : p.end] == p.text


_alphabet = st.sampled_from([*list('法治政府建设调解执法。！？；!?;.”“（）)\n \u3000\t3a,，、"'), "\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=60).map("".join))
def test_pieces_cover_all_non_space_text_in_order(s: str) -> None:
    pieces = split_sentences(s)
    # Order, offsets and trimming.
    last_end = 0
    for p in pieces:
        assert p.start >= last_end
        assert s[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        last_end = p.end
    # Coverage: nothing but whitespace lies outside the pieces.
    covered = "".join(p.text for p in pieces)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", s)
    # No piece contains a line break or has a terminator in its middle followed by a CJK character.
    for p in pieces:
        assert "\n" not in p.text and "\r" not in p.text
        assert not re.search(r"[。！？；][法治政府建设调解执法]", p.text)
