"""The report's figures: shares per year and province, top localities, from a fabricated results folder."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policytag.collection.report import UNKNOWN, Breakdown, build_report, load_report, read_results
from policytag.collection.schema import sentences_table, tagged_from_predictions
from policytag.core.taxonomy import Taxonomy
from tests.support.collection import DocSpec, doc_specs, fabricate, fabricated_results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy) -> Path:
    return fabricated_results(tmp_path_factory.mktemp("results") / "results", taxonomy)


def _expected(specs: list[DocSpec], key: str) -> dict[str, tuple[int, int, Counter[str]]]:
    """Per bucket of ``key``: documents, sentences and sentences per label, counted from the specs."""
    out: dict[str, tuple[int, int, Counter[str]]] = {}
    for s in specs:
        value = getattr(s, key)
        bucket = UNKNOWN if value is None else str(value)
        docs, sents, counts = out.get(bucket, (0, 0, Counter()))
        out[bucket] = (docs + 1, sents + len(s.labels), counts + Counter(x for ls in s.labels for x in ls))
    return out


@pytest.mark.parametrize("key", ["year", "province"])
def test_shares_are_sentence_counts_per_bucket(results: Path, taxonomy: Taxonomy, key: str) -> None:
    report = load_report(results)
    by: Breakdown = report.by_year if key == "year" else report.by_province
    expected = _expected(doc_specs(taxonomy), key)
    assert set(by.buckets) == set(expected)
    for i, bucket in enumerate(by.buckets):
        docs, sents, counts = expected[bucket]
        assert (by.documents[i], by.sentences[i]) == (docs, sents)
        for label in taxonomy.ids:
            assert by.counts[label][i] == counts[label]
            assert by.share(label)[i] == pytest.approx(counts[label] / sents)
    assert sum(by.sentences) == report.sentences == sum(len(s.labels) for s in doc_specs(taxonomy))
    assert sum(by.documents) == report.documents == len(doc_specs(taxonomy))


def test_buckets_are_ordered_with_unknown_last(results: Path) -> None:
    report = load_report(results)
    assert report.by_year.buckets == ("2021", "2022", "2023", UNKNOWN)
    assert report.by_province.buckets[-1] == UNKNOWN
    assert report.by_province.buckets[:3] == ("广东省", "浙江省", "四川省")  # most documents first, then by name


def test_label_year_matrix_is_labels_by_years(results: Path, taxonomy: Taxonomy) -> None:
    report = load_report(results)
    matrix = report.by_year.matrix(report.chart_labels)
    assert matrix.shape == (len(taxonomy.ids) - 1, 4)
    assert matrix[report.chart_labels.index("legal_aid"), 0] == pytest.approx(report.by_year.share("legal_aid")[0])
    assert "other" not in report.chart_labels and report.label_ids == taxonomy.ids


def test_top_localities_rank_by_share_among_large_enough_localities(results: Path, taxonomy: Taxonomy) -> None:
    specs = doc_specs(taxonomy)
    report = load_report(results, top=3, min_sentences=40)
    sentences: Counter[tuple[str | None, str]] = Counter()
    mediation: Counter[tuple[str | None, str]] = Counter()
    for s in specs:
        if s.locality:
            sentences[(s.province, s.locality)] += len(s.labels)
            mediation[(s.province, s.locality)] += sum("mediation" in ls for ls in s.labels)
    big = [p for p in sentences if sentences[p] >= 40 and mediation[p]]
    big.sort(key=lambda p: (-mediation[p] / sentences[p], -mediation[p], p[1]))
    ranks = report.top_localities["mediation"]
    assert [(r.province, r.locality) for r in ranks] == big[:3]
    assert ranks[0].locality == "杭州市" and ranks[0].name == "杭州市 (浙江省)"  # the fabricated mediation hub
    assert all(r.sentences >= 40 and r.share == pytest.approx(r.count / r.sentences) for r in ranks)
    assert all(len(v) <= 3 for v in report.top_localities.values())


def test_a_single_year_and_no_places(tmp_path: Path, taxonomy: Taxonomy) -> None:
    specs = [DocSpec(None, None, 2022, s.labels) for s in doc_specs(taxonomy)[:3]]
    report = load_report(fabricated_results(tmp_path / "r", taxonomy, specs))
    assert report.by_year.buckets == ("2022",) and report.by_province.buckets == (UNKNOWN,)
    assert report.top_localities == {label: [] for label in taxonomy.ids}


def test_sentences_of_an_unfinished_shard_and_temporary_files_are_left_out(
    tmp_path: Path, taxonomy: Taxonomy, results: Path
) -> None:
    folder = tmp_path / "results"
    shutil.copytree(results, folder)
    # A killed run: the sentences shard of a document is written, its documents shard never was.
    doc, preds = fabricate(DocSpec("广东省", "广州市", 2021, (("legal_aid",),) * 30), taxonomy, name="late")
    table = sentences_table(tagged_from_predictions([doc], preds, taxonomy), model_version="x", taxonomy=taxonomy)
    pq.write_table(table, folder / "sentences" / "part-09999.parquet")
    (folder / "documents" / ".part-09999.parquet.abc123.tmp").write_bytes(b"half a file")
    assert load_report(folder).to_dict() == load_report(results).to_dict() | {"results": str(folder)}


def test_missing_folders_and_tables_are_named(tmp_path: Path, results: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such results folder"):
        read_results(tmp_path / "nope")
    (tmp_path / "r" / "documents").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"documents: no part-\*\.parquet"):
        read_results(tmp_path / "r")
    (tmp_path / "s").mkdir()
    with pytest.raises(FileNotFoundError, match=r"s/documents: no such folder"):
        read_results(tmp_path / "s")
    shutil.copytree(results / "documents", tmp_path / "t" / "documents")
    with pytest.raises(FileNotFoundError, match=r"t/sentences: no such folder"):
        read_results(tmp_path / "t")


def test_a_table_of_another_shape_is_named(tmp_path: Path, results: Path) -> None:
    shutil.copytree(results / "sentences", tmp_path / "r" / "sentences")
    (tmp_path / "r" / "documents").mkdir()
    pq.write_table(pa.table({"doc_id": ["a"]}), tmp_path / "r" / "documents" / "part-00000.parquet")
    with pytest.raises(ValueError, match=r"not a documents table.*'province'"):
        read_results(tmp_path / "r")


def test_manifest_failures_and_json(results: Path, tmp_path: Path) -> None:
    tables = read_results(results)
    assert tables.manifest["model"]["name"] == "fabricated" and tables.failures == 0
    report = build_report(tables)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["model"] == {"name": "fabricated", "version": "fabricated-1", "kind": "none"}
    assert [row["year"] for row in data["by_year"]] == ["2021", "2022", "2023", UNKNOWN]
    shutil.copytree(results, tmp_path / "r")
    (tmp_path / "r" / "errors.jsonl").write_text('{"path": "a.pdf"}\n{"path": "b.docx"}\n', encoding="utf-8")
    assert read_results(tmp_path / "r").failures == 2


@pytest.mark.parametrize("options", [{"top": 0}, {"min_sentences": 0}, {"top": "3"}])
def test_bad_options_are_refused(results: Path, options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        build_report(read_results(results), **options)  # type: ignore[arg-type]
