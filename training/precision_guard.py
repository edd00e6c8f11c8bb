"""The accuracy guard of the fast paths: does bf16 or int8 give the labels that fp32 gives?

For each precision, on labelled sentences (the gold set): ``agreement``, the share of sentences
whose label set is identical to fp32's, and the macro-F1 against the gold labels with its change
from fp32. A path qualifies for ``auto`` when agreement >= 99 % and macro-F1 drops by at most one
point (published int8 results on multi-label Chinese legal text lost up to 1.7 points on rare
labels, so the guard is per model, not assumed).

``policytag train`` measures the guard on its training data and stores it in the model folder as
``precision_guard.json``; ``benchmarks/quant_agreement.py --model DIR`` prints it (``--write``
stores it, e.g. for a folder made before the guard existed). A guard made for another version of
the model is ignored.

Example:
    >>> qualifies(agreement=0.995, f1_change=-0.004)
    True
    >>> qualifies(agreement=0.98, f1_change=0.0)
    False
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from policytag.core.jsonl import atomic_write_text
from policytag.labels.dataset import data_fingerprint
from policytag.training.metrics import multilabel_metrics
from policytag.training.precision import PRECISIONS, cpu_flags, int8_engine
from policytag.training.thresholds import decide

if TYPE_CHECKING:
    from policytag.training.bert_predictor import BertPredictor

__all__ = ["GUARD_FILE", "MAX_F1_DROP", "MIN_AGREEMENT", "measure_guard", "qualifies", "read_guard", "write_guard"]

GUARD_FILE = "precision_guard.json"
MIN_AGREEMENT = 0.99
MAX_F1_DROP = 0.01


def qualifies(*, agreement: float, f1_change: float) -> bool:
    """The rule for ``auto``: agreement with fp32 >= 99 % and macro-F1 down by <= 1 point."""
    # A small epsilon: a drop of exactly one point, computed in floating point, still qualifies.
    return agreement >= MIN_AGREEMENT and -f1_change <= MAX_F1_DROP + 1e-12


def measure_guard(
    predictor: BertPredictor,
    records: Sequence[dict[str, Any]],
    *,
    precisions: Sequence[str] = PRECISIONS,
    data_path: str | None = None,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Compare each of ``precisions`` with ``predictor`` (fp32) on labelled ``records``, on the CPU.

    ``model_version`` (default: the predictor's) ties the guard to one model; ``auto`` ignores a
    guard measured for another version.
    """
    if not records:
        raise ValueError("the accuracy guard needs labelled sentences; none were given")
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown:
        raise ValueError(f"unknown precision(s) {unknown}; choose from {', '.join(PRECISIONS)}")
    reference = predictor if predictor.device.type == "cpu" else predictor.on_cpu()
    texts = [r["text"] for r in records]
    gold = [r["labels"] for r in records]
    ids = [str(r.get("id", i)) for i, r in enumerate(records)]
    t0 = time.perf_counter()
    ref_probs, _ = reference.predict_proba(texts)
    ref_seconds = time.perf_counter() - t0
    ref_labels = decide(ref_probs, reference.thresholds, reference.taxonomy)
    ref_f1 = multilabel_metrics(gold, ref_labels, reference.taxonomy)["macro_f1"]
    paths: dict[str, Any] = {}
    for precision in precisions:
        if precision == "fp32":
            paths["fp32"] = _path_result(ref_labels, ref_labels, ref_f1, ref_f1, 0.0, len(texts) / ref_seconds, ids)
            continue
        trial = reference.with_precision(precision)
        t0 = time.perf_counter()
        probs, _ = trial.predict_proba(texts)
        speed = len(texts) / (time.perf_counter() - t0)
        labels = decide(probs, trial.thresholds, trial.taxonomy)  # the scores above, not a second pass
        f1 = multilabel_metrics(gold, labels, reference.taxonomy)["macro_f1"]
        max_diff = float(abs(probs - ref_probs).max())
        paths[precision] = _path_result(ref_labels, labels, ref_f1, f1, max_diff, speed, ids)
        del trial
    return {
        "format": 1,
        "model_version": model_version or predictor.version,
        "criteria": {"min_agreement": MIN_AGREEMENT, "max_macro_f1_drop": MAX_F1_DROP},
        "data": {"path": data_path, "n_sentences": len(records), "fingerprint": data_fingerprint(list(records))},
        "paths": paths,
        "measured": {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "machine": platform.machine(),
            "cpu_bf16": bool({"avx512_bf16", "amx_bf16"} & cpu_flags()),
            "int8_engine": int8_engine(),
            "note": "sentences_per_s is a by-product of this run, not a benchmark: see benchmarks/serve_bench.py",
        },
    }


def _path_result(
    ref: list[list[str]],
    labels: list[list[str]],
    ref_f1: float,
    f1: float,
    max_diff: float,
    speed: float,
    ids: list[str],
) -> dict[str, Any]:
    changed = [i for i, a, b in zip(ids, ref, labels, strict=True) if sorted(a) != sorted(b)]
    agreement = 1.0 - len(changed) / len(ref)
    change = f1 - ref_f1
    return {
        "agreement": agreement,
        "n_changed": len(changed),
        "changed_ids": changed[:20],
        "macro_f1": f1,
        "macro_f1_change": change,
        "max_score_diff": max_diff,
        "sentences_per_s": round(speed, 1),
        "qualifies": qualifies(agreement=agreement, f1_change=change),
    }


def write_guard(folder: str | Path, guard: dict[str, Any]) -> Path:
    """Store ``guard`` in the model folder (atomically)."""
    path = Path(folder) / GUARD_FILE
    atomic_write_text(path, json.dumps(guard, ensure_ascii=False, indent=2) + "\n")
    return path


def read_guard(folder: str | Path) -> dict[str, Any] | None:
    """The guard stored in ``folder``, or ``None`` if there is none.

    A malformed file raises ``ValueError`` naming the file and the field.
    """
    path = Path(folder) / GUARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: invalid JSON at line {e.lineno} ({e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise ValueError(f"{path}: field 'paths' must be an object of precision -> result")
    for name, result in data["paths"].items():
        if name not in PRECISIONS:
            raise ValueError(f"{path}: paths.{name}: unknown precision (expected one of {', '.join(PRECISIONS)})")
        if not isinstance(result, dict) or not isinstance(result.get("qualifies"), bool):
            raise ValueError(f"{path}: paths.{name}.qualifies must be true or false")
    return data
