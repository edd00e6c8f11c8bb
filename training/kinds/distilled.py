"""The ``distilled`` kind: a BERT student trained on the labelled sentences plus pseudo-labelled unlabelled ones.

The teacher (``distill_teacher``: TF-IDF by default, the strongest single candidate of the kit's grouped
cross-validation) is trained on the same training documents as the student, then scores a sample of
the unlabelled corpus (:mod:`policytag.training.distill`); the student is the ``bert`` kind's model
trained on both, learning the teacher's probabilities where no human label exists. The folder is a
``bert`` folder (the student alone: the teacher is not kept), so it loads, serves and exports as one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.config import TrainConfig, sub_config
from policytag.training.distill import pseudo_label
from policytag.training.kinds import FitResult, get_kind, register
from policytag.training.kinds.bert import BertKind

__all__ = ["DistilledKind"]

log = logging.getLogger(__name__)


def teacher_config(cfg: TrainConfig) -> TrainConfig:
    """The teacher's config: ``distill_teacher`` (a kind or a YAML file) on the student's data and split."""
    teacher = sub_config(
        cfg,
        cfg.distill_teacher,
        output_dir=str(Path(cfg.output_dir) / "teacher"),
        checkpoint_dir=str(cfg.checkpoints / "teacher"),
        name=f"{cfg.model_name}/teacher",
    )
    if teacher.kind in ("distilled", "ensemble"):
        raise ValueError(f"distill_teacher ({cfg.distill_teacher}): a {teacher.kind} model cannot teach")
    return teacher


@register
class DistilledKind(BertKind):
    name = "distilled"

    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        t_cfg = teacher_config(cfg)
        log.info("distillation: training the teacher (%s)", t_cfg.kind)
        teacher = get_kind(t_cfg.kind).fit(t_cfg, split, taxonomy, progress=progress)
        pseudo = pseudo_label(cfg, split, taxonomy, teacher.predictor)
        log.info(
            "distillation: %d pseudo-labelled sentences (%s targets) join %d labelled ones",
            len(pseudo.records),
            "soft" if cfg.distill_soft else "hard",
            len(split.train),
        )
        student = Split(
            train=[*split.train, *pseudo.records], validation=split.validation, test=split.test, name=split.name
        )
        result = super().fit(cfg, student, taxonomy, progress=progress)
        teacher_desc = f"{t_cfg.kind} ({cfg.distill_teacher})" if cfg.distill_teacher != t_cfg.kind else t_cfg.kind
        result.base = result.base | {
            "distillation": {"teacher": teacher_desc, "teacher_base": teacher.base, "labelled": len(split.train)}
            | pseudo.stats
        }
        return result

    def card_base_lines(self, base: dict[str, Any]) -> list[str]:
        """The BERT base's lines, then what the student learned from: its teacher and the pseudo-labels."""
        lines = super().card_base_lines(base)
        d = base.get("distillation")
        if not d:
            return lines
        how = "the teacher's per-label probabilities (soft targets)" if d["soft"] else "the teacher's labels"
        return [
            *lines,
            f"- Distilled: trained on {d['labelled']} labelled sentences and {d['sentences']} unlabelled ones "
            f"from {', '.join(f'`{c}`' for c in d['corpus'])}, learning {how}; teacher: {d['teacher']}, trained "
            "on the same training documents. Documents outside the training side "
            f"({d['excluded_docs']} labelled documents, {d['excluded_localities']} localities) were left out "
            "of the unlabelled corpus.",
        ]
