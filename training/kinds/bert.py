"""The ``bert`` kind: a BERT fine-tuned for multi-label classification (:mod:`policytag.training.bert`).

Its folder is also a plain transformers folder (``config.json``, safetensors weights, tokenizer),
with the trainer's log and the accuracy guard of the fast inference numerics beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.bert_predictor import BertPredictor
from policytag.training.config import TrainConfig
from policytag.training.kinds import FitResult, ModelKind, register
from policytag.training.model_folder import GUARD, TRAINING_LOG, write_json

__all__ = ["BertKind"]

# Bases whose weights did not come from a pretrained Chinese model (see policytag.training.base_model).
_SCRATCH_BASES = ("scratch", "local-mlm")
# Where `policytag pretrain` writes the domain base that `--base-model auto` falls back to (base_model.LOCAL_BASE;
# not imported from there: loading a folder of this kind must not need the Trainer's stack).
LOCAL_BASE = "models/base"


@register
class BertKind(ModelKind):
    name = "bert"

    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        # Imported here: the Trainer's stack is needed to train, not to load a folder of this kind.
        from policytag.training.base_model import resolve_base
        from policytag.training.bert import fit_bert

        base = resolve_base(
            cfg.base_model,
            candidates=cfg.base_candidates,
            scratch_size=cfg.scratch_size,
            train_texts=[r["text"] for r in split.train],
        )
        result = fit_bert(cfg, split, taxonomy, base, progress=progress)
        return FitResult(
            predictor=result.predictor,
            base={"kind": base.kind, "name": base.name, "description": base.description, "tried": list(base.tried)},
            log_history=result.log_history,
            best_epoch=result.best_epoch,
            device=result.device,
            mixed_precision=result.mixed_precision,
        )

    def measure(
        self, cfg: TrainConfig, result: FitResult, records: Sequence[dict[str, Any]], *, model_version: str
    ) -> dict[str, Any]:
        """The accuracy guard: which fast inference paths keep this model's labels (``auto`` reads it)."""
        from policytag.training.numerics.guard import measure_guard

        guard = measure_guard(_bert(result), records, data_path=str(cfg.data), model_version=model_version)
        return {GUARD: guard}

    def save(self, result: FitResult, folder: Path) -> None:
        predictor = _bert(result)
        assert predictor.model is not None and predictor.tokenizer is not None  # BertPredictor checks both
        predictor.model.save_pretrained(folder, safe_serialization=True)
        predictor.tokenizer.save_pretrained(folder)
        write_json(folder / TRAINING_LOG, result.log_history)

    def load(
        self, folder: Path, *, taxonomy: Taxonomy, thresholds: np.ndarray, manifest: dict[str, Any], **options: Any
    ) -> BertPredictor:
        return BertPredictor.from_folder(folder, taxonomy=taxonomy, thresholds=thresholds, manifest=manifest, **options)

    def card_base_lines(self, base: dict[str, Any]) -> list[str]:
        """How the base was chosen, and, for a scratch or local domain base, that it is no pretrained Chinese BERT."""
        return [_chosen_line(base), *_not_pretrained_lines(base)]

    def card_usage_lines(self, measured: dict[str, Any]) -> list[str]:
        lines = [
            "",
            "Without the kit: `AutoModelForSequenceClassification.from_pretrained(folder)` and "
            "`AutoTokenizer.from_pretrained(folder)`; apply a sigmoid and the thresholds in `thresholds.json`.",
        ]
        guard = measured.get(GUARD)
        return lines + _guard_section(guard) if guard is not None else lines


def _chosen_line(base: dict[str, Any]) -> str:
    """Which step of ``--base-model auto`` gave the base (cache or hub, local base, scratch), or that it was named."""
    tried = list(base.get("tried") or [])
    if not tried:
        return f"- Named by `--base-model {base['name']}`."
    names = ", ".join(f"`{t}`" for t in tried)
    order = f"{names} from the local cache (then the hub), then the local domain base `{LOCAL_BASE}`, then scratch"
    if base["kind"] == "local-mlm":
        how = f"none of {names} could be loaded, so the local domain base made by `policytag pretrain` was used"
    elif base["kind"] == "scratch":
        how = f"none of {names} could be loaded and there was no local domain base (`make pretrain` makes one)"
    else:
        how = f"`{base['name']}` was the first that could be loaded"
    return f"- Chosen by `--base-model auto` (order: {order}): {how}."


def _not_pretrained_lines(base: dict[str, Any]) -> list[str]:
    if base["kind"] not in _SCRATCH_BASES:
        return []
    start = "- This is **not** a pretrained Chinese BERT: the weights started random"
    if base["kind"] == "local-mlm":
        start += (
            " and were then pretrained by `policytag pretrain` with masked-language modelling on the kit's own "
            "unlabelled reports (a small domain base: see the README.md of its folder)"
        )
    return [
        start + ".",
        "  Fine-tuning `bert-base-chinese` or `hfl/chinese-roberta-wwm-ext` where they can be downloaded "
        "should do much better.",
    ]


def _bert(result: FitResult) -> BertPredictor:
    if not isinstance(result.predictor, BertPredictor):
        raise TypeError(f"the bert kind works on a BertPredictor, not {type(result.predictor).__name__}")
    return result.predictor


def _guard_section(guard: dict[str, Any]) -> list[str]:
    """The card's table of the accuracy guard: each fast path against fp32."""
    crit = guard["criteria"]
    return [
        "",
        "## Inference numerics (accuracy guard)",
        "",
        f"Each fast path against fp32 on the {guard['data']['n_sentences']} training-data sentences "
        f"(`{GUARD}`). `--numerics auto` may use a path only if it agrees with fp32 on "
        f">= {crit['min_agreement']:.0%} of the sentences and loses <= {crit['max_macro_f1_drop'] * 100:.0f} "
        "macro-F1 point.",
        "",
        "| numerics | identical label sets | macro-F1 | change | qualifies for auto |",
        "|---|---:|---:|---:|---|",
        *[
            f"| {name} | {r['agreement']:.1%} | {r['macro_f1']:.3f} | {r['macro_f1_change'] * 100:+.2f} pt "
            f"| {'yes' if r['qualifies'] else 'no'} |"
            for name, r in guard["paths"].items()
        ],
    ]
