"""`policytag report`: the files it writes, its help, and errors that name what is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policytag.cli import main
from policytag.collection.charts import CHART_NAMES
from policytag.core.taxonomy import Taxonomy
from policytag.training.train import TrainResult
from tests.support.collection import fabricated_results
from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy) -> Path:
    return fabricated_results(tmp_path_factory.mktemp("results") / "results", taxonomy)


def test_report_writes_the_charts_the_page_and_json(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out), "--top", "3", "--min-sentences", "10"]) == 0
    written = {f"{n}.png" for n in CHART_NAMES} | {"report.html", "report.json"}
    assert {p.name for p in out.iterdir()} == written
    printed = capsys.readouterr().out
    assert all(name in printed for name in written) and "report.html in a browser" in printed
    assert '"top": 3' in (out / "report.json").read_text(encoding="utf-8")


def test_help_says_what_it_reads_and_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for words in ("RESULTS_DIR", "--out", "--top", "--min-sentences", "--ascii-names", "report.html", "unknown"):
        assert words in text


def test_a_missing_results_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nope'}: no such results folder" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("table", ["sentences", "documents"])
def test_a_missing_table_is_named(
    results: Path, tmp_path: Path, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "results"
    shutil.copytree(results, folder)
    shutil.rmtree(folder / table)
    assert main(["report", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert f"{folder / table}: no such folder" in capsys.readouterr().err


def test_bad_numbers_are_refused_by_the_parser(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(results), "--top", "0"])
    assert exit_info.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_report_of_a_folder_tagged_by_policytag_tag(
    tfidf_model: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real job's results folder, not a fabricated one: a few seed reports tagged by the TF-IDF model.
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in sorted((ROOT / "seeds").glob("*.txt"))[:6]:
        shutil.copy(path, docs / path.name)
    results, out = tmp_path / "results", tmp_path / "report"
    assert main(["tag", str(docs), "--model", str(tfidf_model.folder), "--out", str(results), "--workers", "1"]) == 0
    assert main(["report", str(results), "--out", str(out), "--min-sentences", "5"]) == 0
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert summary["documents"] == 6 and summary["model"]["kind"] == "tfidf"
    assert sum(row["sentences"] for row in summary["by_year"]) == summary["sentences"] > 50
    assert (out / "report.html").stat().st_size > 10_000
