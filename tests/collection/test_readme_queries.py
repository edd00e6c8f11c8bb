"""The three DuckDB queries of README.md ("Reports and queries") run on a results folder and give the
answers a pyarrow computation gives."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from policytag.core.taxonomy import Taxonomy
from tests.support.collection import fabricated_results
from tests.support.paths import ROOT

duckdb = pytest.importorskip("duckdb", reason="duckdb is a dev dependency (pip install -e '.[dev]')")


def readme_queries() -> list[str]:
    """The ```sql blocks of the README's "Reports and queries" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Reports and queries")
    end = re.compile(r"^##", re.M).search(text, start + 1)
    section = text[start : end.start() if end else len(text)]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, taxonomy: Taxonomy) -> Path:
    """A folder holding ``results/``, as the README's queries expect."""
    folder = tmp_path_factory.mktemp("queries")
    fabricated_results(folder / "results", taxonomy, shard_documents=4)
    return folder


@pytest.fixture(scope="module")
def joined(workdir: Path) -> pa.Table:
    """Every sentence with its document's columns (pyarrow's join, no DuckDB)."""
    sentences = ds.dataset(workdir / "results" / "sentences", format="parquet").to_table(columns=["doc_id", "labels"])
    documents = ds.dataset(workdir / "results" / "documents", format="parquet").to_table()
    # Table.join takes no list columns: look up each sentence's document row and take it.
    rows = pc.index_in(sentences["doc_id"], value_set=documents["doc_id"])
    assert rows.null_count == 0
    matched = documents.take(rows)
    columns = ["source_path", "title", "year", "province", "locality", "sentences", "label_share"]
    return pa.table({**{c: sentences[c] for c in sentences.column_names}, **{c: matched[c] for c in columns}})


def _with_label(table: pa.Table, label: str) -> pa.Table:
    """``table`` with an int column ``hit``: 1 where the sentence's labels contain ``label``."""
    labels = table["labels"].combine_chunks()
    rows = pc.filter(pc.list_parent_indices(labels), pc.equal(pc.list_flatten(labels), label)).to_numpy()
    hit = np.zeros(len(table), dtype=np.int64)
    hit[rows] = 1
    return table.append_column("hit", pa.array(hit))


def _run(workdir: Path, sql: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    monkeypatch.chdir(workdir)
    return [tuple(row) for row in duckdb.sql(sql).fetchall()]


def _round1(value: float) -> float:
    """SQL's round(x, 1): halves away from zero."""
    return math.floor(value * 10 + 0.5) / 10


def test_the_readme_has_three_queries() -> None:
    queries = readme_queries()
    assert len(queries) == 3
    assert all("read_parquet('results/" in q for q in queries)


def test_legal_aid_share_by_year(workdir: Path, joined: pa.Table, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run(workdir, readme_queries()[0], monkeypatch)
    table = _with_label(joined, "legal_aid").group_by("year").aggregate([("hit", "mean"), ("hit", "count")])
    expected = {
        y: (n, 100 * m)
        for y, n, m in zip(*(table[c].to_pylist() for c in ("year", "hit_count", "hit_mean")), strict=True)
    }
    assert [row[0] for row in got] == [*sorted(y for y in expected if y is not None), None]  # NULL year last
    for year, sentences, pct in got:
        assert sentences == expected[year][0]
        assert pct == pytest.approx(expected[year][1], abs=0.051)
    assert sum(row[1] for row in got) == len(joined)


def test_top_localities_for_mediation(workdir: Path, joined: pa.Table, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run(workdir, readme_queries()[1], monkeypatch)
    placed = _with_label(joined, "mediation").filter(pc.is_valid(joined["locality"]))
    table = placed.group_by(["province", "locality"]).aggregate([("hit", "count"), ("hit", "sum")])
    rows = [
        (p, loc, n, m, _round1(100 * m / n))
        for p, loc, n, m in zip(
            *(table[c].to_pylist() for c in ("province", "locality", "hit_count", "hit_sum")), strict=True
        )
        if n >= 20
    ]
    rows.sort(key=lambda r: (-r[4], -r[3], r[1]))
    assert got == rows[:10]
    assert got[0][1] == "杭州市"  # the fabricated mediation hub


def test_documents_with_the_most_enforcement_sentences(
    workdir: Path, joined: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _run(workdir, readme_queries()[2], monkeypatch)
    hits = _with_label(joined, "enforcement")
    per_doc = hits.group_by(["source_path", "title", "year", "sentences"]).aggregate([("hit", "sum")])
    shares = pc.struct_field(hits["label_share"], "enforcement").to_pylist()
    share_of = dict(zip(hits["source_path"].to_pylist(), shares, strict=True))
    rows = [r for r in per_doc.to_pylist() if r["hit_sum"] > 0]
    rows.sort(key=lambda r: (-r["hit_sum"], r["source_path"]))
    assert [(g[0], g[1], g[2], g[3], g[4]) for g in got] == [
        (r["source_path"], r["title"], r["year"], r["hit_sum"], r["sentences"]) for r in rows[:10]
    ]
    for g in got:
        assert g[3] / g[4] == pytest.approx(share_of[g[0]], abs=1e-6)  # the struct's share is the same count
        assert g[5] == pytest.approx(100 * share_of[g[0]], abs=0.051)
