"""``benchmarks/tag_bench.py``: the collection job against the raw predictor and one process per document."""

from __future__ import annotations

from pathlib import Path

from benchmarks.tag_bench import build_folder
from policytag.training.train import TrainResult
from tests.support.benchmarks import run_benchmark


def test_benchmark_folder_holds_distinct_documents_of_joined_seed_pages(tmp_path: Path) -> None:
    build_folder(tmp_path, documents=5, seeds_per_document=3)
    texts = [p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("*.txt"))]
    assert len(texts) == 5 and len(set(texts)) == 5
    assert all(t.count("\n\n") >= 3 for t in texts)  # its own first line, then three seed pages


def test_quick_run_reports_every_measurement_and_its_ratios(tfidf_model: TrainResult) -> None:
    report = run_benchmark(
        "tag_bench.py", "--model", str(tfidf_model.folder), "--documents", "6", "--seeds-per-document", "2",
        "--per-process", "1", "--repeats", "1", "--ray-workers", timeout=300,
    )  # fmt: skip
    raw, job, per_process = report["raw"], report["job"], report["per_process"]
    assert raw["sentences"] == job["sentences"] > 0 and job["documents"] == 6
    assert raw["predict"]["seconds"] > 0 and raw["model_call"]["seconds"] > 0
    assert per_process["documents"] == 1 and per_process["seconds"] > 0
    assert report["ratios"]["job_vs_raw"] == round(job["sentences_per_s"] / raw["predict"]["sentences_per_s"], 3)
    assert report["ratios"]["job_vs_model_call"] == round(
        job["sentences_per_s"] / raw["model_call"]["sentences_per_s"], 3
    )
    assert report["ratios"]["job_vs_per_process"] == round(job["sentences_per_s"] / per_process["sentences_per_s"], 1)
    assert report["model"]["kind"] == "tfidf" and report["ray"] == []
