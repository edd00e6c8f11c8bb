"""The exclusion list keeps evaluation pages, their copies and their offices' neighbouring years out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policytag.core.jsonl import DataError
from policytag.labels.exclusions import (
    ExcludedSource,
    exclusion_reason,
    fingerprint_pages,
    load_excluded,
    normalise_url,
    office_place,
)
from policytag.labels.manifest import ManifestRow, read_manifest, write_manifest
from policytag.labels.seeds import SeedsFolder, check_seeds
from policytag.labels.unlabelled import load_unlabelled
from tests.support.paths import SHARED


@pytest.fixture(scope="module")
def seeds(root: Path) -> SeedsFolder:
    return SeedsFolder(root / "seeds")


def test_the_list_is_a_copy_of_the_shared_one(seeds: SeedsFolder) -> None:
    excluded = seeds.excluded()
    assert len(excluded) >= 40
    shared = SHARED / "EXCLUDED_SOURCES.md"
    if shared.is_file():
        text = shared.read_text(encoding="utf-8")
        assert all(s.url in text for s in excluded)
        assert sum(line.startswith("| ") and "http" in line for line in text.splitlines()) == len(excluded)


def test_project_data_passes_the_exclusion_check(seeds: SeedsFolder) -> None:
    unlabelled = load_unlabelled(seeds.unlabelled).to_list() if seeds.unlabelled.is_file() else []
    assert check_seeds(seeds, unlabelled=unlabelled) == []


def _copy(seeds: SeedsFolder, tmp_path: Path) -> SeedsFolder:
    dst = tmp_path / "seeds"
    dst.mkdir()
    for p in seeds.root.iterdir():
        if p.is_file():
            shutil.copy(p, dst / p.name)
    return SeedsFolder(dst)


def _plant(folder: SeedsFolder, **facts: object) -> None:
    rows = read_manifest(folder.manifest)
    text = "某地司法局开展法律援助进工地活动,为农民工讨回欠薪。"
    fields = {**{k: v for k, v in rows[0].to_dict().items() if k not in ("file", "chars", "sha256")}, **facts}
    row = ManifestRow.from_text(file="999_planted.txt", text=text, **fields)
    (folder.root / row.file).write_text(text, encoding="utf-8")
    write_manifest(folder.manifest, [*rows, row])


def test_a_planted_excluded_url_fails(seeds: SeedsFolder, tmp_path: Path) -> None:
    folder = _copy(seeds, tmp_path)
    assert check_seeds(folder) == []
    url = folder.excluded()[0].url.replace("http://www.", "https://")  # another scheme, no www.: still that page
    _plant(folder, url=url, locality="某市", level="city", year=2010)
    [problem] = check_seeds(folder)
    assert "999_planted.txt" in problem and "URL of excluded page" in problem


def test_a_planted_office_within_a_year_fails(seeds: SeedsFolder, tmp_path: Path) -> None:
    folder = _copy(seeds, tmp_path)
    listed = next(s for s in folder.excluded() if s.level == "county")
    _plant(
        folder,
        url="https://example.org/other.html",
        locality=f"某市{listed.place}",
        level="county",
        year=listed.year_to,
    )
    [problem] = check_seeds(folder)
    assert f"office {listed.place}" in problem


def test_rules() -> None:
    [src] = load_excluded_one()
    assert normalise_url("HTTPS://WWW.Tjjh.gov.cn/a/b.html#top") == "tjjh.gov.cn/a/b.html"
    assert office_place("浙江省嘉兴市嘉善县") == "嘉善县" and office_place("内蒙古自治区") == "内蒙古自治区"
    assert office_place("湘西土家族苗族自治州古丈县") == "古丈县" and office_place("济南市") == "济南市"
    facts = {"url": "", "locality": "天津市静海区", "level": "county"}
    assert exclusion_reason([src], **facts, year=src.year_from) is not None
    assert exclusion_reason([src], **facts, year=src.year_from - 1) is None
    assert exclusion_reason([src], **{**facts, "level": "city"}, year=src.year_from) is None


def load_excluded_one() -> list[ExcludedSource]:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "x.csv"
    path.write_text(
        "locality,place,level,year_from,year_to,year_as_listed,title,url\n"
        "天津市静海区,静海区,county,2022,2025,2024,t,http://www.tjjh.gov.cn/x.html\n",
        encoding="utf-8",
    )
    return load_excluded(path)


def test_bad_csv_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "locality,place,level,year_from,year_to,year_as_listed,title,url\n甲,乙,town,1,2,,t,u\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"x.csv:2: field 'level'"):
        load_excluded(path)


def test_fingerprints_catch_a_repost_but_keep_their_own_text_out() -> None:
    page = (
        "2023年,某区司法局坚持以习近平法治思想为指导,深入推进法治政府建设,取得明显成效。"
        "全年审查区政府规范性文件12件,办理行政复议案件38件,纠错率达到15%以上。"
        "深入开展八五普法,组织法治宣传活动120余场次,覆盖群众3万余人次。"
    )
    fp = fingerprint_pages([("http://listed.example/x", "http://listed.example/x", page)])
    assert "司法局" not in str(fp.pages)  # hashes only
    repost = "来源:某网 2023-03-01\n" + page.replace("。", "。\n") + "\n责任编辑:某某"
    assert fp.match(repost) is not None
    assert fp.match("市场监管局开展食品安全专项检查,检查经营主体300余家。" * 4) is None
