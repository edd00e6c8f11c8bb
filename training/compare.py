"""``policytag compare``: every candidate config on the same guarded folds, ranked by macro-F1.

A model is chosen by how it reads reports of places it has never seen, so every candidate runs
through one fold plan (:func:`policytag.training.cv.plan_folds`: locality folds, or one document
each, from the first config's data and seed; exact and near-duplicates of each fold's test sentences
left out of its training and validation sides) and the one fold runner of
:mod:`policytag.training.cv`. Candidates must name the same data file: a figure on other data is not
comparable.

Per candidate: macro-F1 mean ± sd over folds; a 95 % bootstrap interval of the pooled macro-F1 over test
*documents* (sentences of one report are not independent, so documents are resampled with
replacement, :data:`RESAMPLES` times, seeded); micro-F1; per-label F1; ``other`` apart (its precision
and recall: answered when no category passes, it says how often the model stays silent); and wall
seconds. Ranked best macro-F1 mean first (to three decimals, as printed); ties go to the faster.

``compare.json`` keys: ``data``, ``grouping``, ``seed``, ``folds`` (name, test documents, sentences
left out per fold), ``bootstrap`` (resamples, seed, level), ``candidates`` (ranked; each with
``rank``, ``name``, ``config``, ``kind``, ``macro_f1_mean``, ``macro_f1_std``, ``macro_f1_pooled``,
``macro_f1_ci95``, ``micro_f1_mean``, ``micro_f1_pooled``, ``per_label_f1``, ``other``, ``seconds``,
``folds``). ``compare.png``: per-label F1, one bar per candidate.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.jsonl import atomic_write_bytes, atomic_write_text
from policytag.core.paths import find_input
from policytag.core.taxonomy import OTHER, Taxonomy, load_taxonomy
from policytag.labels.fold_guard import GuardedFold
from policytag.training.config import TrainConfig, load_config
from policytag.training.cv import grouping, plan_folds, run_folds
from policytag.training.fold_store import FoldRun
from policytag.training.metrics import binarize, multilabel_metrics

__all__ = [
    "COMPARE_JSON",
    "COMPARE_PNG",
    "RESAMPLES",
    "Candidate",
    "bootstrap_macro_f1",
    "compare",
    "format_table",
    "load_candidates",
    "write_comparison",
]

log = logging.getLogger(__name__)

COMPARE_JSON = "compare.json"
COMPARE_PNG = "compare.png"
RESAMPLES = 1000
LEVEL = 0.95


@dataclass(frozen=True)
class Candidate:
    """A config to compare: its name in the table (the file's stem), its file and its values."""

    name: str
    path: str
    cfg: TrainConfig


def load_candidates(paths: Sequence[str | Path], *, cv_folds: int | None = None) -> list[Candidate]:
    """The configs at ``paths``, checked to name one data file; ``cv_folds`` (if given) replaces theirs.

    Raises:
        ValueError: no config, a config that does not load, or one whose data file differs from the first's.
    """
    if not paths:
        raise ValueError("compare needs at least one config")
    out: list[Candidate] = []
    for p in paths:
        cfg = load_config(TrainConfig, p)
        if cv_folds is not None:
            cfg = dataclasses.replace(cfg, cv_folds=cv_folds)
        out.append(Candidate(name=Path(p).stem, path=str(p), cfg=cfg))
    first = out[0]
    for c in out[1:]:
        if find_input(c.cfg.data).resolve() != find_input(first.cfg.data).resolve():
            raise ValueError(
                f"{c.path}: data {c.cfg.data} is not the data of {first.path} ({first.cfg.data}); "
                "candidates are compared on one data file"
            )
        if c.cfg.cv_folds != first.cfg.cv_folds:
            log.warning("%s: cv_folds %d ignored; the folds are %s's", c.path, c.cfg.cv_folds, first.path)
    names = [c.name for c in out]
    if len(set(names)) < len(names):  # two configs of one stem in different folders: name them by path
        out = [dataclasses.replace(c, name=c.path) for c in out]
    return out


def compare(
    candidates: Sequence[Candidate],
    *,
    taxonomy: Taxonomy | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    store: str | Path | None = None,
) -> dict[str, Any]:
    """Run every candidate on the first one's fold plan; the comparison (see the module's docstring), ranked.

    With ``store``, each candidate's finished folds are saved in ``store/<name>/`` and taken from there
    by a later run of the same config on the same plan (:mod:`policytag.training.fold_store`), so that
    an interrupted comparison resumes at the fold it stopped in.
    """
    if not candidates:
        raise ValueError("compare needs at least one candidate")
    tax = taxonomy or load_taxonomy()
    first = candidates[0].cfg
    records, folds = plan_folds(first, tax)
    log.info(
        "%s of %s: %d sentences of test documents' duplicates left out in all",
        grouping(first.cv_folds),
        first.data,
        sum(len(f.dropped) for f in folds),
    )
    results = []
    for c in candidates:
        log.info("candidate %s (%s)", c.name, c.cfg.kind)
        where = None if store is None else Path(store) / c.name.replace("/", "_")
        runs = run_folds(c.cfg, records, folds, tax, split_seed=first.seed, progress=progress, store=where)
        # The folds' own seconds, so that a resumed comparison reports what the candidate costs.
        seconds = sum(r.seconds for r in runs)
        results.append(_candidate_result(c, runs, tax, seconds=seconds, resamples=resamples, seed=seed))
    return {
        "data": str(first.data),
        "grouping": grouping(first.cv_folds),
        "seed": first.seed,
        "folds": [_fold_plan_record(f) for f in folds],
        "bootstrap": {"resamples": resamples, "seed": seed, "level": LEVEL, "unit": "test document"},
        "candidates": _ranked(results),
    }


def _fold_plan_record(fold: GuardedFold) -> dict[str, Any]:
    return {
        "name": fold.name,
        "test_docs": list(fold.test_docs),
        "left_out": {"exact": len(fold.exact), "near": len(fold.near)},
    }


def _candidate_result(
    c: Candidate, runs: list[FoldRun], tax: Taxonomy, *, seconds: float, resamples: int, seed: int
) -> dict[str, Any]:
    """One candidate's figures from its fold runs (pooled over every fold's test sentences where so named)."""
    truth = [t for r in runs for t in r.truth]
    predicted = [p for r in runs for p in r.predicted]
    docs = [d for r in runs for d in r.docs]
    pooled = multilabel_metrics(truth, predicted, tax)
    macro = [r.record["macro_f1"] for r in runs]
    micro = [r.record["micro_f1"] for r in runs]
    lo, hi = bootstrap_macro_f1(truth, predicted, docs, tax, resamples=resamples, seed=seed)
    other = pooled["per_label"][OTHER]
    drop = ("test_docs", "per_label_f1")
    return {
        "name": c.name,
        "config": c.path,
        "kind": c.cfg.kind,
        "macro_f1_mean": statistics.fmean(macro),
        "macro_f1_std": statistics.stdev(macro) if len(macro) > 1 else 0.0,
        "macro_f1_pooled": pooled["macro_f1"],
        "macro_f1_ci95": [lo, hi],
        "micro_f1_mean": statistics.fmean(micro),
        "micro_f1_pooled": pooled["micro_f1"],
        "per_label_f1": {i: pooled["per_label"][i]["f1"] for i in tax.ids},
        "other": {k: other[k] for k in ("precision", "recall", "f1", "support", "predicted")},
        "seconds": seconds,
        "folds": [{k: v for k, v in r.record.items() if k not in drop} | {"seconds": r.seconds} for r in runs],
    }


def _ranked(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best macro-F1 mean first, compared to three decimals (what the table shows); ties to the faster."""
    ordered = sorted(results, key=lambda r: (-round(r["macro_f1_mean"], 3), r["seconds"]))
    return [{"rank": k, **r} for k, r in enumerate(ordered, start=1)]


def bootstrap_macro_f1(
    truth: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    docs: Sequence[str],
    taxonomy: Taxonomy,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float, float]:
    """A percentile interval of the pooled macro-F1, resampling documents (all their sentences) with replacement.

    Each resample's macro-F1 averages the labels present in it, as :func:`multilabel_metrics` does.
    Per-document true/false positive counts are summed with resample weights, so 1,000 resamples
    of a few thousand sentences take well under a second.
    """
    if not len(truth) == len(predicted) == len(docs):
        raise ValueError(f"{len(truth)} truths, {len(predicted)} predictions and {len(docs)} documents")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError(f"resamples must be >= 1 and level in (0, 1), got {resamples} and {level}")
    y = binarize(truth, taxonomy).astype(bool)
    p = binarize(predicted, taxonomy).astype(bool)
    names = sorted(set(docs))
    index = {d: i for i, d in enumerate(names)}
    rows = np.array([index[d] for d in docs], dtype=int)
    counts = [np.zeros((len(names), len(taxonomy))) for _ in range(3)]
    for c, hit in zip(counts, (y & p, ~y & p, y & ~p), strict=True):
        np.add.at(c, rows, hit)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(resamples, len(names)))
    weights = np.zeros((resamples, len(names)))
    np.add.at(weights, (np.arange(resamples)[:, None], draws), 1.0)
    tp, fp, fn = (weights @ c for c in counts)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (tp + fn) > 0
    macro = (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(macro, [tail, 100 - tail])
    return float(lo), float(hi)


def format_table(result: dict[str, Any]) -> str:
    """The ranked table printed by ``policytag compare``."""
    lines = [
        f"{result['grouping']} of {result['data']}; macro-F1 mean ± sd over folds, and pooled over all test "
        f"sentences with a 95 % interval from {result['bootstrap']['resamples']} bootstrap resamples of test documents",
        f"{'#':>2}  {'candidate':<24}{'kind':<8}{'macro-F1 folds':>16}{'pooled (95 % interval)':>25}"
        f"{'micro-F1':>10}{'other P/R':>11}{'seconds':>9}",
    ]
    for c in result["candidates"]:
        lo, hi = c["macro_f1_ci95"]
        other = f"{c['other']['precision']:.2f}/{c['other']['recall']:.2f}"
        pooled = f"{c['macro_f1_pooled']:.3f} ({lo:.3f}–{hi:.3f})"
        lines.append(
            f"{c['rank']:>2}  {c['name']:<24}{c['kind']:<8}{c['macro_f1_mean']:>9.3f} ± {c['macro_f1_std']:.3f}"
            f"{pooled:>25}{c['micro_f1_pooled']:>10.3f}{other:>11}{c['seconds']:>9.0f}"
        )
    left = ", ".join(str(f["left_out"]["exact"] + f["left_out"]["near"]) for f in result["folds"])
    lines.append(f"duplicates of test sentences left out of training per fold: {left}")
    return "\n".join(lines)


def write_comparison(result: dict[str, Any], out: str | Path, taxonomy: Taxonomy) -> list[Path]:
    """Write ``compare.json`` and ``compare.png`` into ``out``, each atomically; the paths written."""
    import json

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / COMPARE_JSON, folder / COMPARE_PNG]
    atomic_write_text(written[0], json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    atomic_write_bytes(written[1], _plot(result, taxonomy))
    return written


def _plot(result: dict[str, Any], taxonomy: Taxonomy) -> bytes:
    """Grouped bars: per label, one bar per candidate (rank order). Label ids on the axis, as in plots.py."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    from policytag.training.plots import png_bytes

    cands = result["candidates"]
    ids = list(taxonomy.ids)
    width = 0.8 / len(cands)
    x = np.arange(len(ids))
    fig, ax = plt.subplots(figsize=(max(9.0, 0.55 * len(ids) * max(1, len(cands)) ** 0.5), 5))
    for k, c in enumerate(cands):
        lo, hi = c["macro_f1_ci95"]
        label = (
            f"{c['name']}: macro-F1 {c['macro_f1_mean']:.3f} ± {c['macro_f1_std']:.3f} "
            f"(pooled {c['macro_f1_pooled']:.3f}, 95 % {lo:.3f}–{hi:.3f})"
        )
        ax.bar(x - 0.4 + width * (k + 0.5), [c["per_label_f1"][i] for i in ids], width, label=label)
    ax.set_xticks(x, ids, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05 + 0.07 * len(cands))  # room above the bars for the legend
    ax.set_ylabel("F1 (pooled out-of-fold predictions)")
    ax.set_title(f"per-label F1, {result['grouping']}")
    ax.legend(fontsize=8, loc="upper left")
    return png_bytes(fig)
