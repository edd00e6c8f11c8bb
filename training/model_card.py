"""The model card (``README.md`` of a model folder): what the model is, what it saw, how it scored.

The card is the same for every kind but for the kind's own paragraphs (:class:`~policytag.training.kinds.ModelKind`'s
``card_base_lines`` and ``card_usage_lines``); each section below is one function.
"""

from __future__ import annotations

import json
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.training.kinds import ModelKind
from policytag.training.model_folder import PLOTS

__all__ = ["render_model_card"]


def render_model_card(
    *,
    kind: ModelKind,
    manifest: dict[str, Any],
    data: dict[str, Any],
    metrics: dict[str, Any],
    taxonomy: Taxonomy,
    thresholds: dict[str, float],
    config: dict[str, Any],
    plots: list[str],
    measured: dict[str, Any],
) -> str:
    """The card's Markdown; ``plots`` are the file names in ``plots/``, ``measured`` what ``kind.measure`` found."""
    lines = [
        *_summary(manifest, taxonomy),
        *_base_model(manifest["base_model"], kind),
        *_training_data(data),
        *_metrics(metrics, taxonomy, plots),
        *_thresholds(thresholds),
        *_intended_use(),
        *_loading(manifest["name"]),
        *kind.card_usage_lines(measured),
        "",
        "## Training configuration",
        "",
        "```json",
        json.dumps(config, ensure_ascii=False, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def _summary(manifest: dict[str, Any], taxonomy: Taxonomy) -> list[str]:
    return [
        f"# {manifest['name']} (policytag {manifest['kind']} model, version {manifest['version']})",
        "",
        "Multi-label classifier of sentences from Chinese rule-of-law reports (法治政府建设报告, 司法局 work "
        f"reports, press briefings) into the {len(taxonomy)} labels of the policytag taxonomy v{taxonomy.version}; "
        "`other` is answered when no category passes its threshold, never together with a category.",
    ]


def _base_model(base: dict[str, Any], kind: ModelKind) -> list[str]:
    return ["", "## Base model", "", f"- **{base['description']}**", *kind.card_base_lines(base)]


def _training_data(data: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Training data",
        "",
        f"- File `{data['path']}`, sha256 fingerprint `{data['fingerprint']}` ({data['n_sentences']} sentences "
        f"from {len(data['docs'])} documents).",
        f"- Training documents: {', '.join(data['train_docs'])} ({data['n_train']} sentences).",
        f"- Validation documents (early stopping, threshold tuning): {', '.join(data['validation_docs'])} "
        f"({data['n_validation']} sentences).",
    ]
    if data["test_docs"]:
        lines.append(f"- Test documents (held out): {', '.join(data['test_docs'])} ({data['n_test']} sentences).")
    return lines


def _metrics(metrics: dict[str, Any], taxonomy: Taxonomy, plots: list[str]) -> list[str]:
    part = "test" if metrics.get("test") else "validation"
    lines = ["", f"## Metrics ({part} split)", ""]
    if part == "validation":
        lines += [
            "The thresholds were tuned on this same validation document, so these figures are optimistic. "
            "Quote leave-one-document-out cross-validation (`policytag cv`) for what to expect on new reports.",
            "",
        ]
    return [
        *lines,
        *_metrics_table(metrics[part], taxonomy),
        "",
        "Plots: " + ", ".join(f"`{PLOTS}/{name}`" for name in plots) + ".",
    ]


def _metrics_table(metrics: dict[str, Any], taxonomy: Taxonomy) -> list[str]:
    lines = ["| label | 中文名 | precision | recall | F1 | support |", "|---|---|---:|---:|---:|---:|"]
    for label in taxonomy.labels:
        m = metrics["per_label"][label.id]
        lines.append(
            f"| {label.id} | {label.zh} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
        )
    lines.append(
        f"| **macro-F1** | | | | **{metrics['macro_f1']:.3f}** | labels present: {len(metrics['labels_in_macro'])} |"
    )
    lines.append(f"| **micro-F1** | | | | **{metrics['micro_f1']:.3f}** | sentences: {metrics['n']} |")
    return lines


def _thresholds(thresholds: dict[str, float]) -> list[str]:
    return [
        "",
        "## Decision thresholds",
        "",
        "| label | threshold |",
        "|---|---:|",
        *[f"| {k} | {v:.2f} |" for k, v in thresholds.items()],
    ]


def _intended_use() -> list[str]:
    return [
        "",
        "## Intended use and limitations",
        "",
        "- For tagging sentences of Chinese government rule-of-law reports to help analysts find and count "
        "policy topics; a human should check the tags before they support conclusions about a locality.",
        "- Trained on a handful of reports from a few localities (mostly Shandong); wording, page chrome and "
        "topics of other regions and years may differ. Rare labels have few examples and the weakest scores.",
        "- Each sentence is classified on its own text only, without its paragraph.",
        "- The labels were made by the kit's developers (two independent passes plus adjudication), not by "
        "domain experts.",
    ]


def _loading(name: str) -> list[str]:
    return [
        "",
        "## Loading",
        "",
        "```python",
        "from policytag.training.predictor import load_predictor  # thresholds and the `other` rule applied",
        f"predictor = load_predictor('models/{name}')",
        "```",
    ]
