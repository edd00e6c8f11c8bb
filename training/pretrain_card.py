"""The card (``README.md``) and the MLM loss curve (``mlm_loss.png``) of a base written by ``policytag pretrain``.

The card says what the base is (a scratch BERT pretrained on the kit's own unlabelled text, never a
pretrained Chinese BERT), what it saw and did not see, its vocabulary, steps and final MLM loss.

Example:
    >>> _fmt(1234567)
    '1,234,567'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["LOSS_PNG", "plot_mlm_loss", "pretraining_card"]

LOSS_PNG = "mlm_loss.png"


def _fmt(n: int) -> str:
    return f"{n:,}"


def plot_mlm_loss(curve: list[tuple[int, float]], path: Path, *, title: str) -> None:
    """Training MLM loss against the optimiser step."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    if curve:
        steps, values = [s for s, _ in curve], [v for _, v in curve]
        ax.plot(steps, values, color="#9dbbd8", linewidth=1, label="logged steps")
        k = max(1, len(values) // 20)
        smooth = [
            sum(values[max(0, i - k + 1) : i + 1]) / len(values[max(0, i - k + 1) : i + 1]) for i in range(len(values))
        ]
        ax.plot(steps, smooth, color="#1f4e79", linewidth=2, label=f"mean of {k} points")
        ax.legend()
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("MLM loss (cross-entropy of the masked tokens)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _data_lines(info: dict[str, Any]) -> list[str]:
    c = info["corpus"]
    excluded = info["excluded_docs"] + info["excluded_localities"]
    if info["config"].get("exclude_labelled"):
        excluded = ["every labelled document (exclude_labelled: grouped CV on this base never tests on text it read)"]
        excluded += info["excluded_docs"] + info["excluded_localities"]
    return [
        "## Data",
        "",
        f"- Sources: {', '.join(f'`{s}`' for s in c['sources'])}; {_fmt(c['pages'])} pages or documents, "
        f"split with the kit's sentence splitter into {_fmt(c['sentences_split'])} sentences.",
        f"- Pretrained on **{_fmt(c['sentences'])} sentences** ({_fmt(c['pieces'])} pieces of at most "
        f"{info['config']['max_length'] - 2} characters, {_fmt(c['characters'])} characters); "
        f"{_fmt(c['sentences_duplicate'])} exact duplicates kept once"
        + (f", {_fmt(c['sentences_sampled_out'])} left out by --max-sentences" if c["sentences_sampled_out"] else "")
        + ".",
        "- Excluded: "
        + (
            f"{_fmt(c['pages_excluded'])} pages of {', '.join(excluded)}, and "
            f"{_fmt(c['sentences_shared_with_excluded'])} sentences of other pages that are also in them."
            if excluded
            else "nothing beyond what the harvest itself leaves out (the excluded sources of seeds/)."
        ),
    ]


def _vocab_lines(v: dict[str, Any]) -> list[str]:
    return [
        "## Vocabulary",
        "",
        f"- **{_fmt(v['size'])} tokens** (one per CJK character, ASCII letters and digits also as `##` "
        f"continuations): {v['description']}.",
        f"- Labelled text covered: {_fmt(v['labelled_sentences'])} sentences of `{v['labelled']}`."
        if v.get("labelled")
        else "- No labelled text was read for it.",
    ]


def pretraining_card(info: dict[str, Any]) -> str:
    """The base's ``README.md`` from its ``pretraining.json`` contents."""
    t = info["training"]
    cfg = info["config"]
    lines = [
        f"# Domain base: {info['size']} BERT, MLM-pretrained on the kit's unlabelled reports",
        "",
        f"**{info['base']}.** Its weights started random: this is **not** a pretrained Chinese BERT. "
        "`policytag train --base-model <this folder>` fine-tunes it; `--base-model auto` uses `models/base` "
        "when no pretrained Chinese BERT is in the local cache.",
        "",
        *_data_lines(info),
        "",
        *_vocab_lines(info["vocabulary"]),
        "",
        "## Training",
        "",
        f"- {_fmt(t['steps'])} optimiser steps (epochs {cfg['epochs']:g}, batch {cfg['batch_size']}, peak learning "
        f"rate {cfg['learning_rate']:g}, {cfg['mlm_probability']:.0%} of the tokens masked, max length "
        f"{cfg['max_length']}), {info['mixed_precision']} on {t['device']} ({t['threads']} threads), "
        f"{t['seconds']:.0f} s ({t['steps_per_second']} steps/s).",
        f"- MLM loss: first logged {info['mlm_loss_first']:.3f}, **final {info['mlm_loss_last']:.3f}** (mean of the "
        f"last {info['mlm_loss_last_points']} logged steps; curve: `{LOSS_PNG}`, values in `pretraining.json`)."
        if info["mlm_loss_last"] is not None
        else "- No loss was logged.",
        "",
        f"![MLM loss]({LOSS_PNG})",
        "",
        "Regenerate with `make pretrain` (`policytag pretrain --config training/configs/pretrain.yaml`).",
        "",
    ]
    return "\n".join(lines)
