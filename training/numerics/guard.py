"""The accuracy guard of the fast paths: does bf16, int8 or an OpenVINO path give the labels that fp32 gives?

For each numerics path, on labelled sentences (the gold set): ``agreement``, the share of
sentences whose label set is identical to fp32's, and the macro-F1 against the gold labels with its
change from fp32. A path qualifies for ``auto`` when agreement >= 99 % and macro-F1 drops by at
most one point (published int8 results on multi-label Chinese legal text lost up to 1.7 points on
rare labels, so the guard is per model, not assumed).

The product writes the guard into the model folder as ``precision_guard.json``
(:data:`policytag.training.model_folder.GUARD`; the file keeps its name, so that model folders
written before inference numerics had their own name keep working): ``policytag train``
measures it on its training data, ``policytag guard`` (re)measures it for an existing folder;
``benchmarks/quant_agreement.py`` calls the same :func:`store_guard`. A guard made for another
version of the model is ignored.

The guard works on any predictor that satisfies :class:`GuardSubject` (the BERT predictor does);
it imports no model kind.

Example:
    >>> qualifies(agreement=0.995, f1_change=-0.004)
    True
    >>> qualifies(agreement=0.98, f1_change=0.0)
    False
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from policytag.core.jsonl import atomic_write_text
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import data_fingerprint
from policytag.training.metrics import multilabel_metrics
from policytag.training.model_folder import GUARD
from policytag.training.numerics.cpu import has_native_bf16, int8_engine
from policytag.training.numerics.names import NUMERICS
from policytag.training.numerics.openvino import OPENVINO_NUMERICS, missing_reason
from policytag.training.thresholds import decide

__all__ = [
    "MAX_F1_DROP",
    "MIN_AGREEMENT",
    "GuardSubject",
    "applicable_guard",
    "guard_subject",
    "measure_guard",
    "qualified_paths",
    "qualifies",
    "read_guard",
    "store_guard",
    "write_guard",
]

log = logging.getLogger(__name__)

MIN_AGREEMENT = 0.99
MAX_F1_DROP = 0.01


@runtime_checkable
class GuardSubject(Protocol):
    """What the guard needs of a predictor: an fp32 model it can copy to the CPU and convert."""

    taxonomy: Taxonomy
    thresholds: np.ndarray

    @property
    def device(self) -> torch.device: ...

    @property
    def version(self) -> str: ...

    def on_cpu(self) -> GuardSubject: ...

    def with_numerics(self, numerics: str) -> GuardSubject: ...

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]: ...


def guard_subject(predictor: object, *, where: str | Path) -> GuardSubject:
    """``predictor`` as a :class:`GuardSubject`; ``ValueError`` for a model kind without numerics paths."""
    if not isinstance(predictor, GuardSubject):
        raise ValueError(f"{where}: not a BERT model; inference numerics do not apply to it")
    return predictor


def qualifies(*, agreement: float, f1_change: float) -> bool:
    """The rule for ``auto``: agreement with fp32 >= 99 % and macro-F1 down by <= 1 point."""
    # A small epsilon: a drop of exactly one point, computed in floating point, still qualifies.
    return agreement >= MIN_AGREEMENT and -f1_change <= MAX_F1_DROP + 1e-12


def measure_guard(
    predictor: GuardSubject,
    records: Sequence[dict[str, Any]],
    *,
    numerics: Sequence[str] = NUMERICS,
    data_path: str | None = None,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Compare each of ``numerics`` with ``predictor`` (fp32) on labelled ``records``, on the CPU.

    ``model_version`` (default: the predictor's) ties the guard to one model; ``auto`` ignores a
    guard measured for another version.
    """
    if not records:
        raise ValueError("the accuracy guard needs labelled sentences; none were given")
    unknown = [p for p in numerics if p not in NUMERICS]
    if unknown:
        raise ValueError(f"unknown numerics {unknown}; choose from {', '.join(NUMERICS)}")
    reference = predictor if predictor.device.type == "cpu" else predictor.on_cpu()
    texts = [r["text"] for r in records]
    gold = [r["labels"] for r in records]
    ids = [str(r.get("id", i)) for i, r in enumerate(records)]
    t0 = time.perf_counter()
    ref_probs, _ = reference.predict_proba(texts)
    ref_speed = len(texts) / (time.perf_counter() - t0)
    ref_labels = decide(ref_probs, reference.thresholds, reference.taxonomy)
    ref_f1 = multilabel_metrics(gold, ref_labels, reference.taxonomy)["macro_f1"]
    paths: dict[str, Any] = {}
    for name in numerics:
        if name == "fp32":
            paths["fp32"] = _path_result(ref_labels, ref_labels, ref_f1, ref_f1, 0.0, ref_speed, ids)
            continue
        if name in OPENVINO_NUMERICS and (missing := missing_reason()) is not None:
            log.warning("accuracy guard: %s not measured: %s", name, missing)  # auto then never picks it
            continue
        trial = reference.with_numerics(name)
        t0 = time.perf_counter()
        probs, _ = trial.predict_proba(texts)
        speed = len(texts) / (time.perf_counter() - t0)
        labels = decide(probs, trial.thresholds, trial.taxonomy)  # the scores above, not a second pass
        f1 = multilabel_metrics(gold, labels, reference.taxonomy)["macro_f1"]
        max_diff = float(abs(probs - ref_probs).max())
        paths[name] = _path_result(ref_labels, labels, ref_f1, f1, max_diff, speed, ids)
        del trial
    return {
        "format": 1,
        "model_version": model_version or predictor.version,
        "criteria": {"min_agreement": MIN_AGREEMENT, "max_macro_f1_drop": MAX_F1_DROP},
        "data": {"path": data_path, "n_sentences": len(records), "fingerprint": data_fingerprint(list(records))},
        "paths": paths,
        "measured": _measured_on(),
    }


def _measured_on() -> dict[str, Any]:
    """When and on what the guard was measured: the fast paths' results depend on the CPU and torch."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_bf16": has_native_bf16(),
        "int8_engine": int8_engine(),
        "note": "sentences_per_s is a by-product of this run, not a benchmark: see benchmarks/serve_bench.py",
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


def store_guard(
    folder: str | Path,
    predictor: GuardSubject,
    records: Sequence[dict[str, Any]],
    *,
    numerics: Sequence[str] = NUMERICS,
    data_path: str | None = None,
) -> dict[str, Any]:
    """Measure the guard of the model in ``folder`` (loaded as ``predictor``, fp32) and store it there.

    What ``policytag guard`` does, e.g. for a folder trained before the guard existed or to measure
    on other data; ``policytag train`` measures it before its folder exists and writes it with the rest.
    """
    guard = measure_guard(predictor, records, numerics=numerics, data_path=data_path)
    write_guard(folder, guard)
    return guard


def write_guard(folder: str | Path, guard: dict[str, Any]) -> Path:
    """Store ``guard`` in the model folder (atomically)."""
    path = Path(folder) / GUARD
    atomic_write_text(path, json.dumps(guard, ensure_ascii=False, indent=2) + "\n")
    return path


def read_guard(folder: str | Path) -> dict[str, Any] | None:
    """The guard stored in ``folder``, or ``None`` if there is none.

    A malformed file raises ``ValueError`` naming the file and the field.
    """
    path = Path(folder) / GUARD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: invalid JSON at line {e.lineno} ({e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise ValueError(f"{path}: field 'paths' must be an object of numerics -> result")
    for name, result in data["paths"].items():
        if name not in NUMERICS:
            raise ValueError(f"{path}: paths.{name}: unknown numerics (expected one of {', '.join(NUMERICS)})")
        if not isinstance(result, dict) or not isinstance(result.get("qualifies"), bool):
            raise ValueError(f"{path}: paths.{name}.qualifies must be true or false")
    return data


def applicable_guard(folder: str | Path, model_version: str | None) -> tuple[dict[str, Any] | None, str]:
    """The guard of ``folder`` if it was measured for ``model_version``; else ``None`` and why not."""
    path = Path(folder) / GUARD
    guard = read_guard(folder)
    if guard is None:
        return None, f"no accuracy guard: {path} is missing"
    if guard.get("model_version") != model_version:
        return None, f"{path} was measured for model version {guard.get('model_version')}"
    return guard, ""


def qualified_paths(guard: Mapping[str, Any] | None) -> list[str]:
    """Paths other than fp32 that the guard admits (empty without a guard)."""
    if guard is None:
        return []
    paths = guard.get("paths", {})
    return [p for p in NUMERICS if p != "fp32" and isinstance(paths.get(p), dict) and paths[p].get("qualifies")]
