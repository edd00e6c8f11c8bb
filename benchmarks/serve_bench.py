"""Inference throughput of a bert-base-shaped model on this machine, every path in one run, as JSON.

Builds a model folder of the ``scratch-base`` shape (12 layers, hidden 768, the seeds' character
vocabulary) with random weights, then measures on the first 449 seed sentences (labels/sentences.jsonl:
those of the five original seeds):

a. ``naive``: ``transformers.pipeline("text-classification")`` called once per sentence, fp32;
b. ``fp32``: the kit's predictor (whole-input tokenization, length-bucketed batches);
c. ``bf16``, ``int8``, ``openvino-bf16``, ``openvino-int8`` and ``auto``: the kit's fast paths (each only
   where it runs: bf16 where the CPU has it, OpenVINO where its extra is installed; a path that does
   not run is listed with the reason);
d. ``served``: ``policytag serve`` with ``--numerics auto`` under 8 concurrent clients, 16
   sentences per request; and under ``servers`` a server in each numerics under the same load
   (once), with its resident memory after loading and its peak;
e. ``default_model_served``: the model ``make demo`` ships (``models/demo``, the kind the grouped
   comparison chose) served under the same load, so the README can say what a user of the default gets;
f. ``single_sentence_latency``: one-sentence requests, one at a time, to an ``auto`` server with its
   batches padded to a few warmed-up shapes (``POLICYTAG_SHAPE_BUCKETS``, the default) and to one
   without: p50/p99/max per length bucket, and the worst bucket's p99 against its median;
g. ``soak``: an ``auto`` server under the load test for ``--soak-minutes`` (10 by default), its
   resident memory at start, after a warm-up round, after every round and at the end;

and the matrix-multiply ceiling: the six linear layers of a bert-base layer (Q, K, V, output,
FFN up and down) timed alone with fp32 ``nn.Linear``, bf16 ``nn.Linear`` and torch's dynamic
int8 ``Linear`` (the kernels the paths use) on the tokens of 32 sentences of the seeds' mean
length. The ceiling in sentences/s is what the model would reach if those matrix multiplies were
all it did. Each path runs in its own process, so each peak RSS is that path's alone.

Each predictor path also reports ``ms_per_sentence`` (one more pass under torch's profiler: the
linear layers' matrix multiplies, attention, and the rest) and
``fraction_of_ceiling_with_matmuls_at_ceiling``, the fraction of its ceiling the path would reach
if its matrix multiplies ran exactly at the ceiling and the rest kept its measured time. The
served path reports ``model_busy_share``, the share of the load test the server's model spent in
forward passes (its ``policytag_inference_seconds`` metric).

Random weights are fine for speed, but say nothing of accuracy: the accuracy guard of this
model is therefore not measured, and every path is admitted to ``auto``, which then chooses by
its load-time speed probe alone. ``benchmarks/quant_agreement.py`` measures the guard on a
trained model (``policytag guard`` stores it in a model folder).

    python -m benchmarks.serve_bench            # the full run (about 25 minutes on 2 cores, 10 of them the soak)
    python -m benchmarks.serve_bench --quick    # 48 sentences; naive, fp32, auto, served auto
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policytag.core.paths import data_path
from policytag.training.numerics.names import OPENVINO_NUMERICS as OPENVINO

ROOT = Path(__file__).resolve().parent.parent
DEMO_MODEL = ROOT / "models" / "demo"
SENTENCES = data_path("sentences")
CLIENTS = 8
PER_REQUEST = 16


def seed_sentences(n: int | None) -> list[str]:
    from policytag.core.jsonl import read_jsonl

    texts = [r["text"] for r in read_jsonl(SENTENCES)]
    return texts[:n] if n else texts


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(pick(0.50) * 1000, 1), "p95_ms": round(pick(0.95) * 1000, 1)}


# --- the model -----------------------------------------------------------------------------------


def build_bench_model(folder: Path, texts: list[str]) -> None:
    """A complete kit model folder of the scratch-base shape with random weights (seed 0)."""
    import torch

    from policytag.core.taxonomy import load_taxonomy
    from policytag.training.base_model import resolve_base
    from policytag.training.bert import build_model
    from policytag.training.config import TrainConfig
    from policytag.training.model_folder import (
        FORMAT,
        GUARD,
        MANIFEST,
        METRICS,
        TAXONOMY,
        THRESHOLDS,
        atomic_folder,
        write_json,
    )
    from policytag.training.numerics.names import NUMERICS

    torch.manual_seed(0)
    tax = load_taxonomy()
    base = resolve_base("scratch-base", candidates=[], scratch_size="scratch-base", train_texts=texts)
    model = build_model(base, TrainConfig(base_model="scratch-base", max_length=128), tax).eval()
    tokenizer = base.tokenizer
    version = "bench-random-seed0"
    with atomic_folder(folder) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        write_json(
            tmp / MANIFEST,
            {
                "format": FORMAT,
                "kind": "bert",
                "name": "bench-scratch-base",
                "version": version,
                "base_model": {
                    "kind": "scratch",
                    "name": "scratch-base",
                    "description": "scratch-base shape with random, untrained weights: for speed measurements only",
                },
                "max_length": 128,
            },
        )
        write_json(tmp / TAXONOMY, tax.to_dict())
        write_json(tmp / THRESHOLDS, {"thresholds": dict.fromkeys(tax.ids, 0.5)})
        write_json(tmp / METRICS, {"note": "untrained: no metrics"})
        admitted = {"agreement": None, "macro_f1_change": None, "qualifies": True}
        write_json(
            tmp / GUARD,
            {
                "format": 1,
                "model_version": version,
                "note": "serve_bench: random weights, accuracy not measured; every path admitted so that auto "
                "chooses by speed. Not a real guard: see benchmarks/quant_agreement.py.",
                "paths": dict.fromkeys(NUMERICS, admitted),
            },
        )


# --- workers: each path in its own process ---------------------------------------------------------


def worker_naive(model: str, texts: list[str]) -> dict[str, Any]:
    import torch
    from transformers import pipeline

    clf = pipeline("text-classification", model=model, top_k=None, function_to_apply="sigmoid", device=-1)
    clf(texts[0])  # warm-up
    times = []
    with torch.inference_mode():
        for t in texts:
            t0 = time.perf_counter()
            clf(t, truncation=True, max_length=128)
            times.append(time.perf_counter() - t0)
    return {"sentences_per_s": len(texts) / sum(times), "call_size": 1, **_percentiles(times)}


def worker_predictor(model: str, texts: list[str], numerics: str, call_size: int, rounds: int) -> dict[str, Any]:
    from policytag.training.predictor import load_predictor

    t0 = time.perf_counter()
    predictor = load_predictor(model, numerics=numerics)
    load_s = time.perf_counter() - t0
    predictor.predict(texts)  # warm-up: every batch shape once
    times = []
    rates = []
    for _ in range(rounds):
        start_round = time.perf_counter()
        for start in range(0, len(texts), call_size):
            t0 = time.perf_counter()
            predictor.predict(texts[start : start + call_size])
            times.append(time.perf_counter() - t0)
        rates.append(len(texts) / (time.perf_counter() - start_round))
    peak = round(_peak_rss_mib(), 1)  # before the profiled pass, whose records take memory too
    return {
        # The median round: this machine's speed varies from second to second (a shared VM).
        "sentences_per_s": statistics.median(rates),
        "ms_per_sentence": _time_split(predictor, texts, call_size, folder=model),
        "rounds": [round(r, 1) for r in rates],
        "call_size": call_size,
        **_percentiles(times),
        "load_s": round(load_s, 1),
        "numerics": predictor.numerics_info,
        "peak_rss_mib": peak,
    }


# Operators that are the linear layers' matrix multiplies: fp32 and bf16 ``aten::linear`` (with its
# addmm and bias copy), int8 ``quantized::linear_dynamic`` (with its activation quantization).
MATMUL_OPS = frozenset({"aten::linear", "quantized::linear_dynamic"})


def _time_split(predictor: Any, texts: list[str], call_size: int, *, folder: str) -> dict[str, float]:
    """One more pass under torch's profiler: milliseconds per sentence in the linear layers' matrix
    multiplies, in attention, and in everything else (the wall time of the pass minus both)."""
    from torch.profiler import ProfilerActivity, profile

    from policytag.training.numerics.openvino import OpenVinoModel

    if isinstance(predictor.model, OpenVinoModel):
        return _time_split_openvino(predictor, texts, call_size, folder=folder)

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for start in range(0, len(texts), call_size):
            predictor.predict(texts[start : start + call_size])
        wall = time.perf_counter() - t0
    # CPU time of an op counts its children too; linear and attention never nest in each other.
    matmul = sum(e.cpu_time_total for e in prof.key_averages() if e.key in MATMUL_OPS) / 1e6
    attention = sum(e.cpu_time_total for e in prof.key_averages() if e.key == "aten::scaled_dot_product_attention")
    attention /= 1e6
    per = 1000 / len(texts)
    return {
        "matmul": round(matmul * per, 2),
        "attention": round(attention * per, 2),
        "other": round((wall - matmul - attention) * per, 2),
    }


# OpenVINO CPU plugin node types (its profiling_info, openvino 2026.4): the linear layers run as
# FullyConnected (int8 ones also as FullyConnectedQuantizedLegacy); attention runs as one fused "Subgraph"
# per layer (OpenVINO's MHA snippet; elementwise work fused into it is counted there too) or, unfused,
# as MatMul and Softmax nodes.
OV_MATMUL = frozenset({"FullyConnected", "FullyConnectedQuantized", "FullyConnectedQuantizedLegacy"})
OV_ATTENTION = frozenset({"Subgraph", "MatMul", "Softmax", "ScaledDotProductAttention"})


def _time_split_openvino(predictor: Any, texts: list[str], call_size: int, *, folder: str) -> dict[str, float]:
    """The OpenVINO path's split: the same graph compiled with PERF_COUNT, its per-node times summed by type."""
    import openvino as ov

    from policytag.training.numerics.openvino import OpenVinoModel, cached_engine

    fast = predictor.model
    graph = cached_engine(Path(folder), fast.numerics, predictor.version)
    precision = "bf16" if fast.numerics == "openvino-bf16" else "f32"
    compiled = ov.Core().compile_model(graph, "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERF_COUNT": True})
    totals = {"matmul": 0.0, "attention": 0.0}

    class Profiled(OpenVinoModel):
        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = super().forward(input_ids, attention_mask)
            for node in self.request.profiling_info:
                if node.node_type in OV_MATMUL:
                    totals["matmul"] += node.real_time.total_seconds()
                elif node.node_type in OV_ATTENTION:
                    totals["attention"] += node.real_time.total_seconds()
            return out

    predictor.model = Profiled(compiled, config=fast.config, numerics=fast.numerics)
    predictor.predict(texts[:call_size])  # warm-up of the new compilation, not counted
    totals.update(matmul=0.0, attention=0.0)
    t0 = time.perf_counter()
    for start in range(0, len(texts), call_size):
        predictor.predict(texts[start : start + call_size])
    wall = time.perf_counter() - t0
    predictor.model = fast
    per = 1000 / len(texts)
    matmul, attention = totals["matmul"], totals["attention"]
    return {
        "matmul": round(matmul * per, 2),
        "attention": round(attention * per, 2),
        "other": round((wall - matmul - attention) * per, 2),
    }


# The six linear layers of a bert-base layer (Q, K, V, attention output, FFN up and down) as (in, out).
HIDDEN, INNER, LAYERS, CEILING_BATCH = 768, 3072, 12, 32
LINEAR_SHAPES = [(HIDDEN, HIDDEN)] * 4 + [(HIDDEN, INNER), (INNER, HIDDEN)]


def worker_ceiling(mean_tokens: float, repeats: int) -> dict[str, Any]:
    """The matrix-multiply ceiling of each numerics path: the six linears alone, on one batch's tokens."""
    import torch

    from policytag.training.numerics.cpu import int8_engine

    tokens = round(CEILING_BATCH * mean_tokens)
    ops_per_layer = sum(2 * tokens * i * o for i, o in LINEAR_SHAPES)
    out: dict[str, Any] = {"tokens_per_matmul": tokens, "mean_tokens_per_sentence": round(mean_tokens, 1)}
    for name, mods in _ceiling_linears().items():
        if mods is None:
            out[name] = None
            continue
        dtype = torch.bfloat16 if name == "bf16" else torch.float32
        seconds = _best_seconds(mods, dtype, tokens, repeats)
        out[name] = {
            "gop_per_s": round(ops_per_layer / seconds / 1e9, 1),
            "sentences_per_s": round(CEILING_BATCH / (LAYERS * seconds), 1),
            "new_shape_extra_ms": round(_new_shape_cost(mods, dtype, tokens), 1),
            **({"engine": int8_engine()} if name == "int8" else {}),
        }
    return out


def _ceiling_linears() -> dict[str, list[Any] | None]:
    """The six linears in each numerics path the kit runs (bf16: ``None`` where the CPU lacks it)."""
    import torch
    from torch import nn

    from policytag.training.numerics.convert import quantize_linears
    from policytag.training.numerics.cpu import unavailable_reason

    def linears(dtype: torch.dtype) -> list[nn.Module]:
        return [nn.Linear(i, o).eval().to(dtype) for i, o in LINEAR_SHAPES]

    kinds: dict[str, list[Any] | None] = {"fp32": linears(torch.float32), "bf16": None, "int8": None}
    if unavailable_reason("bf16", torch.device("cpu")) is None:
        kinds["bf16"] = linears(torch.bfloat16)
    wrapped: list[nn.Module] = [nn.Sequential(m) for m in linears(torch.float32)]
    for w in wrapped:
        quantize_linears(w)  # swaps the Linear inside each wrapper for a dynamic int8 one
    kinds["int8"] = wrapped
    return kinds


def _best_seconds(mods: list[Any], dtype: Any, tokens: int, repeats: int) -> float:
    """The best of ``repeats`` passes through the six linears, after one warm-up pass."""
    import torch

    xs = [torch.randn(tokens, i).to(dtype) for i, _ in LINEAR_SHAPES]
    with torch.inference_mode():
        for m, x in zip(mods, xs, strict=True):
            m(x)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for m, x in zip(mods, xs, strict=True):
                m(x)
            best = min(best, time.perf_counter() - t0)
    return best


def _new_shape_cost(mods: list[Any], dtype: Any, tokens: int) -> float:
    """Extra milliseconds the six linears take on a row count they have not seen: a served
    batch of a new shape pays it (oneDNN builds a kernel per shape and caches it)."""
    import torch

    xs = [torch.randn(tokens, i).to(dtype) for i, _ in LINEAR_SHAPES]
    fresh: list[float] = []
    again: list[float] = []
    with torch.inference_mode():
        for k in range(1, 8):  # row counts just below ``tokens``, each new to these layers
            for runs in (fresh, again):
                t0 = time.perf_counter()
                for m, x in zip(mods, xs, strict=True):
                    m(x[: tokens - k])
                runs.append(time.perf_counter() - t0)
    return 1000 * (statistics.median(fresh) - statistics.median(again))


def run_worker(**job: Any) -> dict[str, Any]:
    """This script in a fresh process (``--worker JSON``); its JSON line, with its peak RSS."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(job)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_quiet_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {job} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _quiet_env() -> dict[str, str]:
    return {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


# --- the server ----------------------------------------------------------------------------------


@contextmanager
def server(model: str, numerics: str, **settings: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**_quiet_env(), "POLICYTAG_NUMERICS": numerics}
    env.update({f"POLICYTAG_{k.upper()}": v for k, v in settings.items()})
    cmd = [sys.executable, "-m", "policytag", "serve", "--model", model, "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        with httpx.Client(base_url=base, timeout=5) as c:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited: {proc.stderr.read()[-3000:] if proc.stderr else ''}")
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("the server did not become ready")
                time.sleep(0.2)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _server_rss_mib(proc: subprocess.Popen[str]) -> dict[str, float]:
    status = Path(f"/proc/{proc.pid}/status").read_text()
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return {"rss_mib": round(int(fields["VmRSS"]) / 1024, 1), "peak_rss_mib": round(int(fields["VmHWM"]) / 1024, 1)}


def load_test(base: str, texts: list[str], rounds: int) -> dict[str, Any]:
    """8 clients, each sending requests of 16 sentences until the sentences x ``rounds`` are sent.

    The clients use http.client with bodies encoded beforehand: they share the server's two cores,
    and a heavier client would measure itself.
    """
    import http.client
    from urllib.parse import urlparse

    url = urlparse(base)
    host, port = url.hostname or "127.0.0.1", url.port
    bodies = [
        json.dumps({"sentences": texts[i : i + PER_REQUEST]}, ensure_ascii=False).encode("utf-8")
        for i in range(0, len(texts), PER_REQUEST)
    ] * rounds
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(bodies)

    def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
        conn.request("POST", "/v1/classify", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=300)
        try:
            while True:
                with lock:
                    body = next(pending, None)
                if body is None:
                    return
                t0 = time.perf_counter()
                status, data = post(conn, body)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors.append(f"{status}: {data[:200]!r}")
        finally:
            conn.close()

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for f in [pool.submit(client) for _ in range(CLIENTS)]:
            f.result()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    n = sum(len(json.loads(b)["sentences"]) for b in bodies)
    return {
        "sentences_per_s": n / wall,
        "sentences": n,
        "clients": CLIENTS,
        "sentences_per_request": PER_REQUEST,
        **_percentiles(latencies),
    }


def _inference_seconds(base: str) -> float:
    """The server's ``policytag_inference_seconds_sum``: seconds its model has spent in forward batches."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "policytag_inference_seconds_sum":
                return float(sample.value)
    raise RuntimeError("the server's /metrics has no policytag_inference_seconds_sum")


def serve(model: str, texts: list[str], numerics: str, *, rounds: int) -> dict[str, Any]:
    """A server in ``numerics``: its memory after loading, the load test, its peak memory."""
    import httpx

    with server(model, numerics) as (base, proc):
        info = httpx.get(f"{base}/v1/model", timeout=10).json()["numerics"]
        idle = _server_rss_mib(proc)
        result: dict[str, Any] = {"numerics": info, "rss_after_load_mib": idle["rss_mib"]}
        warm = {"sentences": texts[:PER_REQUEST]}
        httpx.post(f"{base}/v1/classify", json=warm, timeout=300).raise_for_status()  # warm the path once
        before = _inference_seconds(base)
        result.update(load_test(base, texts, rounds))
        busy = _inference_seconds(base) - before
        # The model's share of the load test's wall time; the rest is HTTP, JSON and batching.
        result["model_busy_share"] = round(busy / (result["sentences"] / result["sentences_per_s"]), 3)
        result["peak_rss_mib"] = _server_rss_mib(proc)["peak_rss_mib"]
    return result


def soak(model: str, texts: list[str], numerics: str, *, minutes: float, **settings: str) -> dict[str, Any]:
    """A server under the load test for ``minutes``: its resident memory at start (ready), after a
    warm-up round, every round after, and at the end; the growth after warm-up is the figure to hold.
    ``settings`` are the server's (``shape_buckets="false"``, ...)."""
    with server(model, numerics, **settings) as (base, proc):
        start = _server_rss_mib(proc)["rss_mib"]
        _step(f"soak: RSS at start {start} MiB")
        load_test(base, texts, 1)
        warm = _server_rss_mib(proc)["rss_mib"]
        _step(f"soak: RSS after warm-up {warm} MiB; {minutes:g} minutes of load")
        t0 = time.monotonic()
        samples, sentences = [], 0
        while time.monotonic() - t0 < minutes * 60:
            sentences += load_test(base, texts, 1)["sentences"]
            samples.append([round(time.monotonic() - t0, 1), _server_rss_mib(proc)["rss_mib"]])
        end = _server_rss_mib(proc)
        _step(f"soak: RSS at the end {end['rss_mib']} MiB (peak {end['peak_rss_mib']})")
    return {
        "numerics": numerics,
        "settings": settings,
        "minutes": minutes,
        "sentences": sentences,
        "rss_start_mib": start,
        "rss_after_warmup_mib": warm,
        "rss_end_mib": end["rss_mib"],
        "peak_rss_mib": end["peak_rss_mib"],
        "growth_after_warmup_mib": round(end["rss_mib"] - warm, 1),
        "samples_s_mib": samples,
    }


def single_latency(model: str, texts: list[str], numerics: str, *, shape_buckets: bool) -> dict[str, Any]:
    """One-sentence requests, one at a time, to a fresh server (after its own warm-up, at /readyz):
    latency per length bucket of the sentences, and the worst bucket's p99 against its median."""
    import http.client

    from transformers import AutoTokenizer

    from policytag.training.batching import bucket_width

    tok = AutoTokenizer.from_pretrained(model)
    widths = [bucket_width(min(len(x), 128), max_length=128) for x in tok(texts)["input_ids"]]
    by_bucket: dict[int, list[float]] = {}
    with server(model, numerics, shape_buckets=str(shape_buckets).lower()) as (base, _):
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=120)
        for text, width in zip(texts, widths, strict=True):
            body = json.dumps({"sentences": [text]}, ensure_ascii=False).encode("utf-8")
            t0 = time.perf_counter()
            conn.request("POST", "/v1/classify", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            by_bucket.setdefault(width, []).append(time.perf_counter() - t0)
            if response.status != 200:
                raise RuntimeError(f"single-sentence request answered {response.status}")
        conn.close()
    buckets = {}
    for width, seconds in sorted(by_bucket.items()):
        ordered = sorted(seconds)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        buckets[str(width)] = {"requests": len(ordered), "p50_ms": round(p50 * 1000, 1),
                               "p99_ms": round(p99 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}  # fmt: skip
    worst = max(b["p99_ms"] / b["p50_ms"] for b in buckets.values() if b["requests"] >= 5)
    return {"shape_buckets": shape_buckets, "requests": len(texts), "by_length_bucket": buckets,
            "worst_p99_over_p50": round(worst, 2)}  # fmt: skip


# --- the run -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import torch

    from policytag.training.numerics.cpu import cpu_flags

    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "flags": [f for f in wanted if f in cpu_flags()],
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.worker:
        return _worker_main(args)
    # The first 449 sentences are the five original seeds': the set the README's figures were measured on.
    texts = seed_sentences(args.sentences or (48 if args.quick else 449))
    rounds = 1 if args.quick else args.rounds
    report: dict[str, Any] = {"machine": machine(), "sentences": len(texts), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="policytag-bench-") as work:
        model = args.model or str(Path(work) / "scratch-base-random")
        report["model"] = _bench_model(model, given=bool(args.model))
        mean_tokens = _mean_tokens(model, texts)
        report["mean_tokens"] = round(mean_tokens, 1)
        _step("ceiling")
        ceiling = run_worker(kind="ceiling", mean_tokens=mean_tokens, repeats=5 if args.quick else 20)
        report["ceiling"] = ceiling
        paths = _predictor_paths(model, texts, ceiling, quick=args.quick, rounds=rounds)
        memory, paths["served"] = _servers(model, texts, ceiling, quick=args.quick, rounds=rounds)
        report["servers"] = memory
        report["default_model_served"] = _default_served(Path(args.default_model), texts, rounds=rounds)
        if args.soak_minutes > 0 and not args.quick:
            report["soak"] = soak(model, texts, "auto", minutes=args.soak_minutes)
        if not args.quick:
            _step("single-sentence latency, with and without shape buckets")
            report["single_sentence_latency"] = [
                single_latency(model, texts, "auto", shape_buckets=on) for on in (True, False)
            ]
    report["paths"] = _compare_with_ceiling(paths, ceiling)
    report.update(_served_summary(paths["served"], memory, ceiling))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--quick", action="store_true", help="48 sentences once; naive, fp32, auto and served auto only: about a minute"
    )
    ap.add_argument(
        "--sentences", type=int, default=None, help="use the first N seed sentences (default: 449; --quick: 48)"
    )
    ap.add_argument(
        "--rounds", type=int, default=3, help="times each predictor path and the server get the sentences (default: 3)"
    )
    ap.add_argument("--model", default=None, help="benchmark this model folder instead of a random scratch-base")
    ap.add_argument(
        "--soak-minutes",
        type=float,
        default=10.0,
        help="minutes an auto server stays under the load test, its memory sampled (default: %(default)s; "
        "0 skips it; --quick never runs it)",
    )
    ap.add_argument(
        "--default-model",
        default=str(DEMO_MODEL),
        help="the model a user of the default gets (what `make demo` ships), served under the same load "
        "(default: %(default)s; skipped with the reason when missing)",
    )
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # JSON: one path in a fresh process
    return ap


def _bench_model(model: str, *, given: bool) -> dict[str, Any]:
    """The model's description for the report; builds the random scratch-base one unless ``given``."""
    if given:
        return {"folder": model}
    t0 = time.perf_counter()
    build_bench_model(Path(model), seed_sentences(None))
    print(f"built {model} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {"shape": "scratch-base (12 layers, hidden 768)", "weights": "random, seed 0"}


def _predictor_paths(
    model: str, texts: list[str], ceiling: dict[str, Any], *, quick: bool, rounds: int
) -> dict[str, Any]:
    """The naive pipeline and the kit's predictor in each numerics, each in its own process."""
    _step("naive pipeline")
    paths: dict[str, Any] = {"naive": run_worker(kind="naive", model=model, n=len(texts))}
    for numerics in ("fp32", "auto") if quick else ("fp32", "bf16", "int8", *OPENVINO, "auto"):
        why = _unavailable(numerics)
        if why is not None:
            paths[numerics] = {"skipped": why}
            continue
        _step(f"predictor {numerics}")
        paths[numerics] = run_worker(kind="predictor", model=model, n=len(texts), numerics=numerics, rounds=rounds)
    return paths


def _servers(
    model: str, texts: list[str], ceiling: dict[str, Any], *, quick: bool, rounds: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A server in each numerics under load: the memory of each, and the full result of ``auto``."""
    memory: dict[str, Any] = {}
    served: dict[str, Any] = {}
    for numerics in ["auto"] if quick else ["auto", "fp32", "bf16", "int8", *OPENVINO]:
        if _unavailable(numerics) is not None:
            continue
        _step(f"server {numerics}")
        # Every server takes the load test (auto for ``rounds``, the others once): its peak memory
        # is then that of serving, not of one request.
        result = serve(model, texts, numerics, rounds=rounds if numerics == "auto" else 1)
        memory[numerics] = {
            "rss_after_load_mib": result["rss_after_load_mib"],
            "peak_rss_mib_under_load": result["peak_rss_mib"],
            "sentences_per_s": round(result["sentences_per_s"], 1),
        }
        if numerics == "auto":
            served = result
    return memory, served


def _compare_with_ceiling(paths: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """Each measured path against the naive pipeline and against its numerics' matrix-multiply ceiling."""
    naive = paths["naive"]["sentences_per_s"]
    for p in paths.values():
        if "sentences_per_s" not in p:
            continue
        used = _ceiling_of(p.get("numerics", {}).get("used", "fp32"))
        p["sentences_per_s"] = round(p["sentences_per_s"], 1)
        p["vs_naive"] = round(p["sentences_per_s"] / naive, 2)
        p["fraction_of_ceiling"] = round(p["sentences_per_s"] / ceiling[used]["sentences_per_s"], 3)
        if "ms_per_sentence" in p:
            # Were this path's matrix multiplies exactly at the ceiling, with attention and the rest
            # as measured, it would reach this fraction of the ceiling: its limit, short of new kernels.
            split = p["ms_per_sentence"]
            at_ceiling = 1000 / ceiling[used]["sentences_per_s"]
            p["fraction_of_ceiling_with_matmuls_at_ceiling"] = round(
                at_ceiling / (at_ceiling + split["attention"] + split["other"]), 3
            )
    return paths


def _served_summary(served: dict[str, Any], memory: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """The served path's headline figures and the targets they are held to."""
    of_int8 = round(served["sentences_per_s"] / ceiling["int8"]["sentences_per_s"], 3)
    return {
        "served_vs_naive": served["vs_naive"],
        "served_fraction_of_ceiling": served["fraction_of_ceiling"],
        "served_fraction_of_int8_ceiling": of_int8,
        "targets": {
            "served_vs_naive >= 8": served["vs_naive"] >= 8,
            "served >= 0.6 x int8 ceiling": of_int8 >= 0.6,
            "int8 server peak RSS < 1 GiB": memory["int8"]["peak_rss_mib_under_load"] < 1024
            if "int8" in memory
            else None,
            "served numerics": served["numerics"]["used"],
        },
    }


def _default_served(model: Path, texts: list[str], *, rounds: int) -> dict[str, Any]:
    """The default model (``models/demo``, whatever kind the comparison made it) served under the same load."""
    if not (model / "policytag.json").is_file():
        return {"skipped": f"{model} is not a model folder (make demo writes it)"}
    _step(f"server of the default model {model}")
    kind = json.loads((model / "policytag.json").read_text(encoding="utf-8")).get("kind")
    result = serve(str(model), texts, "auto", rounds=rounds)
    keep = ("sentences_per_s", "p50_ms", "p95_ms", "numerics", "rss_after_load_mib", "peak_rss_mib", "model_busy_share")
    return {"folder": str(model), "kind": kind, **{k: result[k] for k in keep if k in result}}


def _unavailable(numerics: str) -> str | None:
    """Why a path is not measured here (``auto`` always is)."""
    if numerics == "auto":
        return None
    import torch

    from policytag.training.numerics.cpu import unavailable_reason

    return unavailable_reason(numerics, torch.device("cpu"))


def _ceiling_of(numerics: str) -> str:
    """The matrix-multiply ceiling a path is held to: an OpenVINO path's is that of its number format."""
    return numerics.removeprefix("openvino-")


def _step(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what} ...", file=sys.stderr, flush=True)


def _mean_tokens(model: str, texts: list[str]) -> float:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    return statistics.mean(min(len(x), 128) for x in tok(texts)["input_ids"])


def _worker_main(args: argparse.Namespace) -> int:
    job = json.loads(args.worker)
    if job["kind"] == "ceiling":
        result = worker_ceiling(float(job["mean_tokens"]), int(job["repeats"]))
    elif job["kind"] == "naive":
        result = worker_naive(job["model"], seed_sentences(job["n"]))
    else:
        texts = seed_sentences(job["n"])
        result = worker_predictor(job["model"], texts, job["numerics"], call_size=128, rounds=job["rounds"])
    result.setdefault("peak_rss_mib", round(_peak_rss_mib(), 1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
