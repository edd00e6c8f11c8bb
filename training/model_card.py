"""The model card (``README.md`` of a model folder): what the model is, what it saw, how it scored."""

from __future__ import annotations

from typing import Any

from policytag.core.taxonomy import Taxonomy

__all__ = ["render_model_card"]


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


def render_model_card(
    *,
    manifest: dict[str, Any],
    data: dict[str, Any],
    metrics: dict[str, Any],
    taxonomy: Taxonomy,
    thresholds: dict[str, float],
    config: dict[str, Any],
    guard: dict[str, Any] | None = None,
) -> str:
    base = manifest["base_model"]
    scratch = base["kind"] in ("scratch", "local-mlm")
    lines = [
        f"# {manifest['name']} (policytag {manifest['kind']} model, version {manifest['version']})",
        "",
        "Multi-label classifier of sentences from Chinese rule-of-law reports (法治政府建设报告, 司法局 work "
        f"reports, press briefings) into the {len(taxonomy)} labels of the policytag taxonomy v{taxonomy.version}; "
        "`other` is answered when no category passes its threshold, never together with a category.",
        "",
        "## Base model",
        "",
        f"- **{base['description']}**",
    ]
    if scratch:
        lines += [
            "- This is **not** a pretrained Chinese BERT: the weights started random"
            + (
                " and no pretrained model could be loaded (tried: " + ", ".join(base["tried"]) + ")."
                if base.get("tried")
                else "."
            ),
            "  Fine-tuning `bert-base-chinese` or `hfl/chinese-roberta-wwm-ext` where they can be downloaded "
            "should do much better.",
        ]
    lines += [
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
    part = "test" if metrics.get("test") else "validation"
    lines += [
        "",
        f"## Metrics ({part} split)",
        "",
    ]
    if part == "validation":
        lines += [
            "The thresholds were tuned on this same validation document, so these figures are optimistic. "
            "Quote leave-one-document-out cross-validation (`policytag cv`) for what to expect on new reports.",
            "",
        ]
    lines += _metrics_table(metrics[part], taxonomy)
    lines += [
        "",
        "Plots: `plots/f1_per_label.png`, `plots/label_cooccurrence.png`"
        + (", `plots/learning_curve.png`." if manifest["kind"] == "bert" else "."),
        "",
        "## Decision thresholds",
        "",
        "| label | threshold |",
        "|---|---:|",
        *[f"| {k} | {v:.2f} |" for k, v in thresholds.items()],
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
        "",
        "## Loading",
        "",
        "```python",
        "from policytag.training.predictor import load_predictor  # thresholds and the `other` rule applied",
        f"predictor = load_predictor('models/{manifest['name']}')",
        "```",
    ]
    if manifest["kind"] == "bert":
        lines += [
            "",
            "Without the kit: `AutoModelForSequenceClassification.from_pretrained(folder)` and "
            "`AutoTokenizer.from_pretrained(folder)`; apply a sigmoid and the thresholds in `thresholds.json`.",
        ]
    if guard is not None:
        crit = guard["criteria"]
        lines += [
            "",
            "## Inference precision (accuracy guard)",
            "",
            f"Each fast path against fp32 on the {guard['data']['n_sentences']} training-data sentences "
            f"(`precision_guard.json`). `--precision auto` may use a path only if it agrees with fp32 on "
            f">= {crit['min_agreement']:.0%} of the sentences and loses <= {crit['max_macro_f1_drop'] * 100:.0f} "
            "macro-F1 point.",
            "",
            "| precision | identical label sets | macro-F1 | change | qualifies for auto |",
            "|---|---:|---:|---:|---|",
            *[
                f"| {name} | {r['agreement']:.1%} | {r['macro_f1']:.3f} | {r['macro_f1_change'] * 100:+.2f} pt "
                f"| {'yes' if r['qualifies'] else 'no'} |"
                for name, r in guard["paths"].items()
            ],
        ]
    lines += ["", "## Training configuration", "", "```json"]
    import json

    lines += [json.dumps(config, ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)
