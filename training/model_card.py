"""The model card (``README.md`` of a model folder): what the model is, what it saw, how it scored.

The card is the same for every kind but for the kind's own paragraphs (:class:`~policytag.training.kinds.ModelKind`'s
``card_base_lines`` and ``card_usage_lines``); each section below is one function.
"""

from __future__ import annotations

import json
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.training.kinds import ModelKind
from policytag.training.model_folder import ERRORS, PLOT_CONFUSED_PAIRS, PLOTS

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
    errors: dict[str, Any] | None = None,
    tuned_on: str | None = None,
) -> str:
    """The card's Markdown; ``plots`` are the file names in ``plots/``, ``measured`` what ``kind.measure`` found.

    ``errors`` is what the error analysis wrote (:func:`policytag.training.error_analysis.write_error_analysis`),
    None when there were no out-of-fold predictions; ``tuned_on`` says what the thresholds were tuned on.
    """
    oof = config.get("thresholds") == "oof"
    lines = [
        *_summary(manifest, taxonomy),
        *_expected(manifest.get("grouped_cv")),
        *_base_model(manifest["base_model"], kind),
        *_training_data(data, oof=oof),
        *_metrics(metrics, taxonomy, plots, oof=oof),
        *_out_of_fold(metrics.get("oof"), errors),
        *_thresholds(thresholds, tuned_on=tuned_on),
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


def _expected(cv: dict[str, Any] | None) -> list[str]:
    """What to expect on reports of new places: the grouped-CV figure of the config this model was trained with."""
    lines = ["", "## Expected on reports of new places", ""]
    if cv is None:
        return [
            *lines,
            "No grouped cross-validation figure was recorded for this config (`cv_report`): run `policytag compare` "
            "with it; the validation figures below are not what to expect on new places.",
        ]
    low, high = cv["macro_f1_ci95"]
    return [
        *lines,
        f"Grouped cross-validation of this config ({cv['grouping']} of `{cv['data']}`, candidate "
        f"`{cv['candidate']}` of `{cv['source']}`): macro-F1 **{cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}** "
        f"over the folds; pooled {cv['macro_f1_pooled']:.3f}, 95 % interval {low:.3f}–{high:.3f} (bootstrap over "
        f"test documents); micro-F1 {cv['micro_f1_mean']:.3f}; `other` precision {cv['other']['precision']:.2f}, "
        f"recall {cv['other']['recall']:.2f}.",
    ]


def _base_model(base: dict[str, Any], kind: ModelKind) -> list[str]:
    return ["", "## Base model", "", f"- **{base['description']}**", *kind.card_base_lines(base)]


def _training_data(data: dict[str, Any], *, oof: bool) -> list[str]:
    val_use = "early stopping; held out from threshold tuning" if oof else "early stopping, threshold tuning"
    lines = [
        "",
        "## Training data",
        "",
        f"- File `{data['path']}`, sha256 fingerprint `{data['fingerprint']}` ({data['n_sentences']} sentences "
        f"from {len(data['docs'])} documents).",
        f"- Training documents: {', '.join(data['train_docs'])} ({data['n_train']} sentences).",
        f"- Validation documents ({val_use}): {', '.join(data['validation_docs'])} ({data['n_validation']} sentences).",
    ]
    if data["test_docs"]:
        lines.append(f"- Test documents (held out): {', '.join(data['test_docs'])} ({data['n_test']} sentences).")
    return lines


def _metrics(metrics: dict[str, Any], taxonomy: Taxonomy, plots: list[str], *, oof: bool) -> list[str]:
    part = "test" if metrics.get("test") else "validation"
    lines = ["", f"## Metrics ({part} split)", ""]
    if part == "validation" and oof:
        lines += [
            "The thresholds were tuned out of fold on the training documents, so these documents are held out; "
            "quote grouped cross-validation (`policytag cv`) for what to expect on new reports.",
            "",
        ]
    elif part == "validation":
        lines += [
            "The thresholds were tuned on this same validation document, so these figures are optimistic. "
            "Quote leave-one-document-out cross-validation (`policytag cv`) for what to expect on new reports.",
            "",
        ]
    return [
        *lines,
        *_metrics_table(metrics[part], taxonomy),
        "",
        _other_line(metrics[part]),
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


def _other_line(m: dict[str, Any]) -> str:
    o = m["per_label"]["other"]
    return (
        f"`other` (answered when no category passes its threshold): precision {o['precision']:.3f} (low: categories "
        f"missed), recall {o['recall']:.3f} (low: spurious categories), {o['support']} true, {o['predicted']} answered."
    )


def _out_of_fold(m: dict[str, Any] | None, errors: dict[str, Any] | None) -> list[str]:
    """The out-of-fold figures of the training sentences and the error analysis made from them."""
    if m is None:
        return []
    lines = [
        "",
        "## Out-of-fold predictions (training documents)",
        "",
        f"Every training sentence scored by a model trained without its group ({m['grouping']}); {m['note']}. "
        f"macro-F1 {m['macro_f1']:.3f}, micro-F1 {m['micro_f1']:.3f} over {m['n']} sentences.",
        "",
        _other_line(m),
    ]
    if errors is not None:
        pairs = ", ".join(f"{p['predicted']} ← {p['true']} ({p['count']})" for p in errors["top_pairs"]) or "none"
        lines += [
            "",
            f"Error analysis, for labellers: `{ERRORS}` holds the {errors['n_written']} highest-loss training "
            f"sentences ({errors['n_wrong_written']} of them predicted wrong), with their true and predicted labels "
            f"and scores; `{PLOTS}/{PLOT_CONFUSED_PAIRS}` the most confused label pairs (a predicted label that is "
            f"not true ← a true label of the same sentence). Most frequent: {pairs}.",
        ]
    return lines


def _thresholds(thresholds: dict[str, float], *, tuned_on: str | None) -> list[str]:
    how = f"Tuned per label (F1-optimal, with a floor) on {tuned_on}." if tuned_on else ""
    return [
        "",
        "## Decision thresholds",
        "",
        *([how, ""] if how else []),
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
