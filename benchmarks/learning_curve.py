"""Learning curve: grouped-CV macro-F1 of candidate configs on a growing share of the training documents.

Tells whether more labelling still pays: a curve still rising from 75 % to 100 % of the training
documents says that more labelled reports will lift the score; a flat one says that the model, not
the data, is the limit. Every candidate and every share runs on the one guarded fold plan of
``policytag compare`` (:func:`policytag.training.cv.plan_folds`: locality folds, duplicates of test
sentences left out of training) through its one fold runner (:func:`policytag.training.cv.run_folds`),
so the points are comparable with each other and with the comparison's table.

Per fold, the training documents (every document outside the fold's test documents) are shuffled
once with a seed; a share takes the first ``round(share × n)`` of them, so the smaller shares are
subsets of the larger ones (less noise between points) and the test documents are never touched:
each point is scored on the same test sentences. A candidate's validation documents are chosen
among the sampled ones and scaled by the share (``max(1, round(share × validation_docs))``), so
that the documents the model trains on shrink by the share too, not faster.

    python -m benchmarks.learning_curve [--configs A.yaml B.yaml] [--fractions 0.25 0.5 0.75 1.0]
        [--folds 5] [--limit N] [--seed 0] [--plot learning_curve.png] > learning_curve.json

Quick mode (a test, a smoke run): ``--folds 2 --fractions 0.5 1.0 --limit 300``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policytag.core.jsonl import atomic_write_bytes
from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.labels.fold_guard import GuardedFold
from policytag.training.compare import Candidate, load_candidates
from policytag.training.cv import grouping, plan_folds, run_folds

__all__ = ["DEFAULT_CONFIGS", "DEFAULT_FRACTIONS", "learning_curve", "plot", "sample_training_docs", "subsample"]

log = logging.getLogger("benchmarks.learning_curve")

DEFAULT_CONFIGS = ("training/configs/tfidf-search.yaml", "training/configs/tfidf-oof.yaml")
DEFAULT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def training_docs(records: Sequence[dict[str, Any]], fold: GuardedFold) -> list[str]:
    """The fold's training documents: every document of ``records`` outside its test documents, sorted."""
    test = set(fold.test_docs)
    return sorted({r["doc"] for r in records} - test)


def sample_training_docs(
    records: Sequence[dict[str, Any]], fold: GuardedFold, fraction: float, *, seed: int
) -> list[str]:
    """``round(fraction × n)`` (at least one) of the fold's ``n`` training documents, sorted.

    One seeded shuffle per fold (seed and fold name), of which each share takes a prefix: a smaller
    share's documents are a subset of a larger share's.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"a fraction of the training documents lies in (0, 1], got {fraction}")
    docs = training_docs(records, fold)
    random.Random(f"{seed}:{fold.name}").shuffle(docs)
    return sorted(docs[: max(1, round(fraction * len(docs)))])


def subsample(
    records: Sequence[dict[str, Any]], fold: GuardedFold, keep_docs: Sequence[str]
) -> tuple[list[dict[str, Any]], GuardedFold]:
    """The records of the test documents and of ``keep_docs``, and the fold re-indexed onto them.

    The duplicates the fold leaves out (by index into ``records``) stay left out where their
    document is kept; those of documents not kept go with their documents.
    """
    keep = set(keep_docs)
    if keep & set(fold.test_docs):
        raise ValueError(f"{fold.name}: test documents {sorted(keep & set(fold.test_docs))} cannot be training ones")
    keep |= set(fold.test_docs)
    index = {old: new for new, old in enumerate(i for i, r in enumerate(records) if r["doc"] in keep)}
    kept = [records[i] for i in index]
    moved = dataclasses.replace(
        fold,
        exact=frozenset(index[i] for i in fold.exact if i in index),
        near=frozenset(index[i] for i in fold.near if i in index),
    )
    return kept, moved


def _point(
    c: Candidate,
    records: Sequence[dict[str, Any]],
    folds: Sequence[GuardedFold],
    tax: Taxonomy,
    *,
    fraction: float,
    seed: int,
    split_seed: int,
) -> dict[str, Any]:
    """One candidate at one share: each fold trained on its sampled documents, scored on its whole test side."""
    vdocs = c.cfg.validation_docs and max(1, round(fraction * c.cfg.validation_docs))
    cfg = dataclasses.replace(c.cfg, validation_docs=vdocs)
    per_fold = []
    start = time.perf_counter()
    for fold in folds:
        everything = training_docs(records, fold)
        chosen = sample_training_docs(records, fold, fraction, seed=seed)
        kept, moved = subsample(records, fold, chosen)
        (run,) = run_folds(cfg, kept, [moved], tax, split_seed=split_seed, progress=False)
        r = run.record
        per_fold.append(
            {
                "fold": fold.name,
                "documents": len(chosen),
                "share_of_documents": len(chosen) / len(everything),
                "validation_docs": len(r["validation_docs"]),
                "n_train": r["n_train"],
                "n_test": r["n_test"],
                "macro_f1": r["macro_f1"],
                "micro_f1": r["micro_f1"],
                "seconds": round(run.seconds, 2),
            }
        )
        log.info(
            "%s  %3.0f %%  %s: %d documents, %d sentences  macro-F1 %.3f",
            c.name,
            fraction * 100,
            fold.name,
            len(chosen),
            r["n_train"],
            r["macro_f1"],
        )
    return _summarise(fraction, per_fold, time.perf_counter() - start)


def _summarise(fraction: float, per_fold: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """A point: its folds' mean, sd, min and max macro-F1, and the share of documents used."""
    macro = [f["macro_f1"] for f in per_fold]
    return {
        "fraction": fraction,
        "share_of_documents": statistics.fmean(f["share_of_documents"] for f in per_fold),
        "documents_mean": statistics.fmean(f["documents"] for f in per_fold),
        "n_train_mean": statistics.fmean(f["n_train"] for f in per_fold),
        "macro_f1_mean": statistics.fmean(macro),
        "macro_f1_std": statistics.stdev(macro) if len(macro) > 1 else 0.0,
        "macro_f1_min": min(macro),
        "macro_f1_max": max(macro),
        "micro_f1_mean": statistics.fmean(f["micro_f1"] for f in per_fold),
        "seconds": round(seconds, 2),
        "folds": per_fold,
    }


def learning_curve(
    candidates: Sequence[Candidate],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    *,
    taxonomy: Taxonomy | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Every candidate at every share of the training documents, on the first candidate's fold plan."""
    if not candidates:
        raise ValueError("the learning curve needs at least one candidate config")
    shares = sorted(set(fractions))
    for f in shares:
        if not 0.0 < f <= 1.0:
            raise ValueError(f"a fraction of the training documents lies in (0, 1], got {f}")
    tax = taxonomy or load_taxonomy()
    first = candidates[0].cfg
    records, folds = plan_folds(first, tax)
    curves = []
    for c in candidates:
        points = [_point(c, records, folds, tax, fraction=f, seed=seed, split_seed=first.seed) for f in shares]
        last = points[-1]["macro_f1_mean"] - points[-2]["macro_f1_mean"] if len(points) > 1 else None
        curves.append(
            {
                "name": c.name,
                "config": c.path,
                "kind": c.cfg.kind,
                "limit": c.cfg.limit,
                "points": points,
                "last_step_gain": last,  # macro-F1 from the second largest share to the largest
            }
        )
    return {
        "benchmark": "learning_curve",
        "data": str(first.data),
        "grouping": grouping(first.cv_folds),
        "fold_seed": first.seed,
        "sample_seed": seed,
        "fractions": shares,
        "folds": [
            {"name": f.name, "test_docs": len(f.test_docs), "training_docs": len(training_docs(records, f))}
            for f in folds
        ],
        "candidates": curves,
    }


def plot(result: dict[str, Any]) -> bytes:
    """Macro-F1 (mean over folds) against the share of training documents, one line per candidate.

    The band is the folds' spread (min to max); the folds' own points are the small dots.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    from policytag.training.plots import png_bytes

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for c in result["candidates"]:
        pts = c["points"]
        x = [100 * p["share_of_documents"] for p in pts]
        label = f"{c['name']}: {pts[-1]['macro_f1_mean']:.3f} at {100 * pts[-1]['fraction']:.0f} %"
        if c["last_step_gain"] is not None:
            label += f", {c['last_step_gain']:+.3f} over the last step"
        (line,) = ax.plot(x, [p["macro_f1_mean"] for p in pts], marker="o", label=label)
        ax.fill_between(
            x, [p["macro_f1_min"] for p in pts], [p["macro_f1_max"] for p in pts], color=line.get_color(), alpha=0.15
        )
        for xi, p in zip(x, pts, strict=True):
            ax.scatter([xi] * len(p["folds"]), [f["macro_f1"] for f in p["folds"]], s=8, color=line.get_color())
    ax.set_xlabel("share of each fold's training documents (%)")
    ax.set_ylabel("macro-F1 on the fold's test documents")
    ax.set_xlim(0, 105)
    ax.set_title(f"learning curve, {result['grouping']} (band: fold min–max)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return png_bytes(fig)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS), metavar="YAML", help="candidate configs")
    ap.add_argument(
        "--fractions", nargs="+", type=float, default=list(DEFAULT_FRACTIONS), help="shares of training documents"
    )
    ap.add_argument("--folds", type=int, default=None, help="locality folds (default: the first config's cv_folds)")
    ap.add_argument("--limit", type=int, default=None, help="train each fit on at most N sentences (quick runs)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the documents' sampling (default: %(default)s)")
    ap.add_argument("--plot", metavar="PATH", help="write the curve as a PNG")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    log.setLevel(logging.INFO)  # one line per fold and share; the fold runner's own lines would say "fold 1/1"
    candidates = load_candidates(args.configs, cv_folds=args.folds)
    if args.limit is not None:
        candidates = [dataclasses.replace(c, cfg=dataclasses.replace(c.cfg, limit=args.limit)) for c in candidates]
    result = learning_curve(candidates, args.fractions, seed=args.seed)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(args.plot), plot(result))
        log.info("wrote %s", args.plot)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
