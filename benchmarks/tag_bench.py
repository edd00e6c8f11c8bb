"""Throughput of the collection job (``policytag tag``) against its two baselines, in one run, as JSON.

On one folder of ``--documents`` reports it measures, in sentences per second:

a. ``raw``: the predictor's own batched throughput on every sentence of the folder (read and split
   beforehand, not timed), the best of ``--repeats`` passes: ``predict`` (``Predictor.predict`` in
   batches of ``--batch-sentences``, the predictor's batched call; ``job_vs_raw`` compares with it)
   and ``model_call`` (the call the job itself makes, ``tag_documents``: probabilities and thresholds
   as arrays, no object per sentence; ``job_vs_model_call``, the stricter ratio);
b. ``job``: ``policytag tag`` on the folder with the local engine (a process of its own), each run into
   a fresh results folder, the best of ``--repeats`` runs: its engine time (reading on worker
   processes while the model runs, shards written) and the whole job (model loading, hashing,
   manifest included);
c. ``per_process``: the way without the job: one ``policytag predict`` process per document, for
   the first ``--per-process`` documents (each process loads the model: that is the cost the job
   removes), scaled by their sentences;
d. ``ray``: ``policytag tag --engine ray`` with each of ``--ray-workers`` model actors (engine time,
   Ray's start included), and how its tables agree with the local engine's (exactly; labels and
   documents; the largest score difference: a neural model's scores may differ in the last bit).

The documents: real reports of a county or city run to a hundred sentences and more, while a seed
page of ``seeds/`` averages 17, so each benchmark document joins ``--seeds-per-document``
consecutive seed pages (distinct documents, distinct hashes). The model is ``--model`` (default:
``models/demo``, what ``make demo`` ships, when it exists; otherwise a TF-IDF model trained here with
the default settings of the ``tfidf`` kind, a few seconds).

    python -m benchmarks.tag_bench                       # 240 documents, about 2 minutes on 2 cores
    python -m benchmarks.tag_bench --quick               # 40 documents, no Ray: a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from policytag.collection.prepare import prepare_document
from policytag.collection.schema import canonical, tag_documents
from policytag.collection.store import read_tables
from policytag.core.paths import data_path
from policytag.training.predictor import Predictor, load_predictor

ROOT = Path(__file__).resolve().parent.parent
DEMO_MODEL = ROOT / "models" / "demo"


def build_folder(folder: Path, *, documents: int, seeds_per_document: int) -> int:
    """Write ``documents`` reports, each ``seeds_per_document`` consecutive seed pages; return their number."""
    seeds = sorted((data_path("seeds")).glob("*.txt"))
    if len(seeds) < 2:
        raise SystemExit(f"tag_bench: no seed documents under {data_path('seeds')}")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(documents):
        parts = [seeds[(i * seeds_per_document + k) % len(seeds)] for k in range(seeds_per_document)]
        body = "\n\n".join(p.read_text(encoding="utf-8") for p in parts)
        # a line of its own makes every document distinct even when the seed pages repeat
        (folder / f"report-{i:04d}.txt").write_text(f"第{i + 1}号汇编报告。\n\n{body}", encoding="utf-8")
    return documents


def model_folder(requested: str | None, work: Path) -> tuple[Path, str]:
    """The model to tag with, and where it came from."""
    if requested:
        return Path(requested), "given by --model"
    if (DEMO_MODEL / "policytag.json").is_file():
        return DEMO_MODEL, "models/demo (what make demo ships)"
    from policytag.training.config import TrainConfig
    from policytag.training.train import train

    out = work / "tfidf"
    train(TrainConfig(data=str(data_path("gold")), output_dir=str(out), kind="tfidf"), progress=False)
    return out, "a TF-IDF model trained by the benchmark (no models/demo)"


def measure_raw(predictor: Predictor, folder: Path, *, batch: int, repeats: int) -> dict[str, Any]:
    """The predictor's batched throughput on every sentence of ``folder``, reading done beforehand (not timed).

    Two figures, each the best of ``repeats`` passes: ``predict`` (``Predictor.predict`` in batches of
    ``batch`` sentences: the predictor's own batched call, a ``Prediction`` per sentence) and
    ``model_call`` (:func:`~policytag.collection.schema.tag_documents`, the call the job makes: the
    model's probabilities and the thresholds as arrays, about ``batch`` sentences a call).
    """
    docs = [prepare_document(p) for p in sorted(folder.glob("*.txt"))]
    texts = [t for d in docs for t in d.model_texts]
    per_call = max(1, round(batch / max(1, len(texts) / max(1, len(docs)))))  # documents per call

    def predict() -> None:
        for i in range(0, len(texts), batch):
            predictor.predict(texts[i : i + batch])

    def model_call() -> None:
        for i in range(0, len(docs), per_call):
            tag_documents(predictor, docs[i : i + per_call], batch_sentences=batch * 2)

    out: dict[str, Any] = {"sentences": len(texts)}
    for name, fn in (("predict", predict), ("model_call", model_call)):
        best = min(_timed(fn) for _ in range(repeats))
        out[name] = {"seconds": round(best, 3), "sentences_per_s": round(len(texts) / best, 1)}
    return out


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_job(folder: Path, model: Path, out: Path, *, engine: str, workers: int, batch: int) -> dict[str, Any]:
    """One ``policytag tag`` job on ``folder`` into ``out`` (a fresh results folder), run as a user runs it.

    A process of its own, as the command line starts it: the reading workers it spawns import what the
    command imports, not this benchmark. The figures are the job's own, from its ``manifest.json``.
    """
    command = [sys.executable, "-m", "policytag", "tag", str(folder), "--model", str(model), "--out", str(out),
               "--engine", engine, "--workers", str(workers), "--batch-sentences", str(batch)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"tag_bench: policytag tag failed ({done.returncode}):\n{done.stderr[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run = manifest["run"]
    if run["failed"]:
        raise SystemExit(f"tag_bench: {run['failed']} documents failed; see {out / 'errors.jsonl'}")
    sentences, engine_s, job_s = run["sentences"], run["tagging_seconds"], run["seconds"]
    return {
        "engine": engine,
        "workers": workers,
        "documents": run["tagged"],
        "sentences": sentences,
        "engine_seconds": engine_s,
        "job_seconds": job_s,
        "sentences_per_s": round(sentences / engine_s, 1),
        "sentences_per_s_whole_job": round(sentences / job_s, 1),
    }


def measure_per_process(folder: Path, model: Path, *, n: int) -> dict[str, Any]:
    """``policytag predict`` once per document, one process each, for the first ``n`` documents."""
    docs = sorted(folder.glob("*.txt"))[:n]
    sentences = sum(len(prepare_document(p).sentences) for p in docs)
    start = time.perf_counter()
    for p in docs:
        subprocess.run([sys.executable, "-m", "policytag", "predict", "--model", str(model), str(p)],
                       check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    seconds = time.perf_counter() - start
    return {
        "documents": len(docs),
        "sentences": sentences,
        "seconds": round(seconds, 3),
        "seconds_per_document": round(seconds / len(docs), 3),
        "sentences_per_s": round(sentences / seconds, 1),
    }


def compare_tables(a: Path, b: Path) -> dict[str, Any]:
    """How two results folders agree: exactly, in labels and documents, and the largest score difference.

    A neural model's scores may differ in the last float bit between engines (other batch compositions
    round differently); its labels and the documents table should not.
    """
    (sa, da), (sb, db) = read_tables(a), read_tables(b)
    sa, sb, da, db = canonical(sa), canonical(sb), canonical(da), canonical(db)
    same_rows = sa.num_rows == sb.num_rows
    diff = None
    if same_rows and sa.num_rows:
        x = np.array([list(r.values()) for r in sa.column("scores").to_pylist()], dtype=np.float64)
        y = np.array([list(r.values()) for r in sb.column("scores").to_pylist()], dtype=np.float64)
        diff = float(np.abs(x - y).max())
    return {
        "tables_identical_to_local": bool(sa.equals(sb) and da.equals(db)),
        "labels_identical_to_local": same_rows and sa.column("labels").equals(sb.column("labels")),
        "documents_identical_to_local": bool(da.equals(db)),
        "max_score_difference": diff,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tag_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="model folder (default: models/demo, else a TF-IDF model trained here)")
    p.add_argument("--documents", type=int, default=240, help="documents in the folder (default: 240)")
    p.add_argument("--seeds-per-document", type=int, default=6, help="seed pages joined into one (default: 6)")
    p.add_argument("--per-process", type=int, default=12, help="documents run one process each (default: 12)")
    p.add_argument("--workers", type=int, default=1, help="reading processes of the local engine (default: 1)")
    p.add_argument("--batch-sentences", type=int, default=2048, help="sentences per predict call (default: 2048)")
    p.add_argument(
        "--repeats", type=int, default=3, help="runs of the raw and job measurements, the best kept (default: 3)"
    )
    p.add_argument("--ray-workers", type=int, nargs="*", default=[1, 2], help="Ray model actors tried (default: 1 2)")
    p.add_argument("--quick", action="store_true", help="40 documents, 4 per process, no Ray: a smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.documents, args.per_process, args.ray_workers = 40, 4, []
    if min(args.documents, args.seeds_per_document, args.per_process, args.workers, args.repeats) < 1:
        p.error("--documents, --seeds-per-document, --per-process, --workers and --repeats must be >= 1")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = work / "documents"
    build_folder(folder, documents=args.documents, seeds_per_document=args.seeds_per_document)
    model, source = model_folder(args.model, work)
    predictor = load_predictor(model)
    raw = measure_raw(predictor, folder, batch=args.batch_sentences, repeats=args.repeats)
    # the best of --repeats runs, each into a fresh results folder: the statistic the raw figure uses
    runs = [
        measure_job(
            folder, model, work / f"out-local-{i}", engine="local", workers=args.workers, batch=args.batch_sentences
        )
        for i in range(args.repeats)
    ]
    job = max(runs, key=lambda r: float(r["sentences_per_s"]))
    local = work / "out-local-0"
    per_process = measure_per_process(folder, model, n=args.per_process)
    ray = []
    for w in args.ray_workers:
        out = work / f"out-ray-{w}"
        ray.append(measure_job(folder, model, out, engine="ray", workers=w, batch=args.batch_sentences))
        ray[-1].update(compare_tables(local, out))
    return {
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "model": {
            "folder": str(model),
            "source": source,
            "kind": predictor.manifest.get("kind"),
            "version": predictor.version,
        },
        "documents": args.documents,
        "raw": raw,
        "job": job,
        "per_process": per_process,
        "ratios": {
            "job_vs_raw": round(job["sentences_per_s"] / raw["predict"]["sentences_per_s"], 3),
            "job_whole_vs_raw": round(job["sentences_per_s_whole_job"] / raw["predict"]["sentences_per_s"], 3),
            "job_vs_model_call": round(job["sentences_per_s"] / raw["model_call"]["sentences_per_s"], 3),
            "job_vs_per_process": round(job["sentences_per_s"] / per_process["sentences_per_s"], 1),
        },
        "targets": {"job_vs_raw": 0.8, "job_vs_per_process": 5.0},
        "ray": ray,
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tag-bench-") as tmp:
        report = run(args, Path(tmp))
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
