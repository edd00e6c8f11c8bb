"""PNG plots for model folders: per-label F1 bars, label co-occurrence, learning curve.

Axis labels use the ASCII label ids: CJK fonts are not guaranteed on a headless machine.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np

from policytag.core.taxonomy import Taxonomy

__all__ = ["plot_cooccurrence", "plot_f1", "plot_learning_curve", "png_bytes"]


def png_bytes(fig: Any) -> bytes:
    """A finished matplotlib figure as PNG bytes (for atomic writes), the figure closed."""
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def plot_f1(metrics: dict[str, Any], taxonomy: Taxonomy, path: Path, *, title: str) -> None:
    per = metrics["per_label"]
    ids = list(taxonomy.ids)
    f1 = [per[i]["f1"] for i in ids]
    support = [per[i]["support"] for i in ids]
    fig, ax = plt.subplots(figsize=(9, 5))
    bars = ax.barh(ids[::-1], f1[::-1], color=["#bbbbbb" if s == 0 else "#3b75af" for s in support[::-1]])
    for bar, s in zip(bars, support[::-1], strict=True):
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, f"n={s}", va="center", fontsize=8)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("F1 (grey: label absent from the evaluated data)")
    ax.set_title(f"{title}: macro-F1 {metrics['macro_f1']:.3f}, micro-F1 {metrics['micro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_cooccurrence(truth: np.ndarray, predicted: np.ndarray, taxonomy: Taxonomy, path: Path, *, title: str) -> None:
    """Rows: true label; columns: predicted label; cell: share of the row's sentences predicted so."""
    counts = truth.T.astype(float) @ predicted.astype(float)
    rows = np.maximum(truth.sum(axis=0, keepdims=True).T, 1)
    share = counts / rows
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(taxonomy)), taxonomy.ids, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(taxonomy)), taxonomy.ids, fontsize=8)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    for i in range(len(taxonomy)):
        for j in range(len(taxonomy)):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.6 else "black",
                )
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of true-label sentences")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_learning_curve(log_history: list[dict[str, Any]], path: Path) -> None:
    train = [(h["epoch"], h["loss"]) for h in log_history if "loss" in h and "epoch" in h]
    evals = [(h["epoch"], h["eval_loss"], h.get("eval_macro_f1")) for h in log_history if "eval_loss" in h]
    if not train and not evals:
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    if evals:
        ax.plot([e[0] for e in evals], [e[1] for e in evals], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("BCE loss")
    if evals and evals[0][2] is not None:
        ax2 = ax.twinx()
        ax2.plot(
            [e[0] for e in evals], [float(e[2] or 0.0) for e in evals], color="tab:green", label="validation macro-F1"
        )
        ax2.set_ylabel("macro-F1")
        ax2.set_ylim(0, 1)
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
