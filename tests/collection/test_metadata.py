"""Province, locality and year from a report's title or first lines: read when written, ``None`` otherwise."""

from __future__ import annotations

import pytest

from policytag.collection.metadata import Metadata, find_place, find_year, read_metadata
from policytag.labels.harvest import PROVINCES

TITLES = [
    ("江苏省南京市鼓楼区2023年法治政府建设年度报告", "江苏省", "南京市鼓楼区", 2023),
    ("北京市海淀区2022年法治政府建设年度情况报告", "北京市", "海淀区", 2022),
    ("上海市2021年法治政府建设情况报告", "上海市", None, 2021),
    ("江苏南京市2023年度法治政府建设工作报告", "江苏省", "南京市", 2023),
    ("广西壮族自治区南宁市青秀区2020年法治政府建设年度报告", "广西壮族自治区", "南宁市青秀区", 2020),
    ("四川省凉山彝族自治州2019年法治政府建设报告", "四川省", "凉山彝族自治州", 2019),
    ("內蒙古自治區呼和浩特市２０２４年法治政府建設年度報告", "内蒙古自治区", "呼和浩特市", 2024),
    ("杭州市西湖区法治政府建设情况报告", None, "杭州市西湖区", None),
    ("吉林市2022年法治政府建设情况", None, "吉林市", 2022),  # the city, not the province
    ("苏州市人民政府关于2023年法治政府建设情况的报告", None, "苏州市", 2023),
    ("中共某县委 某县人民政府关于2021年度法治政府建设的报告", None, "某县", 2021),
    ("关于2023年法治政府建设工作情况的报告", None, None, 2023),
    ("全市法治政府建设年度报告", None, None, None),
    ("法治政府建设年度报告", None, None, None),
]


@pytest.mark.parametrize(("title", "province", "locality", "year"), TITLES)
def test_titles(title: str, province: str | None, locality: str | None, year: int | None) -> None:
    assert read_metadata(title) == Metadata(province=province, locality=locality, year=year)
    assert province is None or province in PROVINCES


def test_the_title_comes_first_then_the_first_lines() -> None:
    text = "湖北省武汉市江岸区2019年法治政府建设年度报告\n全年办理法律援助案件120件。"
    assert read_metadata(None, text) == Metadata("湖北省", "武汉市江岸区", 2019)
    assert read_metadata("浙江省2022年法治政府建设报告", text) == Metadata("浙江省", None, 2022)
    # The title names no year: the first 200 characters of the text may.
    assert read_metadata("浙江省法治政府建设报告", text).year == 2019


def test_body_sentences_are_not_read_for_a_place() -> None:
    text = "近年来，我们学习借鉴了江苏省南京市的经验。\n" * 2
    assert read_metadata(None, text) == Metadata(None, None, None)


def test_a_year_past_the_first_200_characters_is_not_read() -> None:
    assert read_metadata(None, "法" * 200 + "2023年").year is None
    assert read_metadata(None, "法" * 190 + "2023年").year == 2023
    assert find_year("编号12023年") is None and find_year("1850年") is None and find_year("2022—2023年") == 2023


@pytest.mark.parametrize(
    ("line", "place"),
    [
        ("海南州2022年法治政府建设报告", (None, "海南州")),  # Qinghai's prefecture, not Hainan province
        ("海南省三亚市2022年", ("海南省", "三亚市")),
        ("“重庆市渝中区2021年法治政府建设年度报告”", ("重庆市", "渝中区")),
        ("西藏召开自治区调解工作新闻发布会", ("西藏自治区", None)),
    ],
)
def test_find_place(line: str, place: tuple[str | None, str | None]) -> None:
    assert find_place(line) == place
