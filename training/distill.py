"""Pseudo-labels for a distilled student: the teacher's scores on sentences of the unlabelled corpus.

Distillation (self-training with soft targets) moves a small model past its labelled data: a teacher
trained on the labelled sentences scores many unlabelled ones, and the student learns the labelled
sentences' labels and the teacher's scores on the rest (:class:`policytag.training.kinds.distilled.DistilledKind`).

Nothing outside the training side may reach the student, not even as unlabelled text: a labelled
document that is not among ``split``'s training or validation documents (a cross-validation test fold)
is left out of the corpus with every page of its locality and every sentence those pages share with
the pages kept (:func:`policytag.training.pretrain_corpus.read_pretrain_corpus` does the exclusion).
Sentences already labelled on the training side are dropped from the pseudo-labelled ones: their
human labels win.

Example:
    >>> docs, localities = outside_training({"a": "X", "b": "Y", "c": "Y"}, train_docs={"b"})
    >>> sorted(docs), sorted(localities)  # c shares b's locality, so only X's pages go
    (['a', 'c'], ['X'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policytag.core.paths import find_input
from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split, read_labelled
from policytag.training.config import TrainConfig
from policytag.training.predictor_base import Predictor
from policytag.training.pretrain_corpus import read_pretrain_corpus
from policytag.training.thresholds import decide

__all__ = ["PSEUDO_DOC", "PseudoLabels", "outside_training", "pseudo_label"]

# The document id of every pseudo-labelled record: none of them is a labelled document.
PSEUDO_DOC = "unlabelled-corpus"


@dataclass
class PseudoLabels:
    """The pseudo-labelled records (``targets`` carry the teacher's scores) and how they were chosen."""

    records: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def outside_training(doc_locality: Mapping[str, str], *, train_docs: set[str]) -> tuple[set[str], set[str]]:
    """Labelled documents outside ``train_docs``, and their localities that no training document shares."""
    docs = set(doc_locality) - train_docs
    train_localities = {doc_locality[d] for d in train_docs if d in doc_locality}
    localities = {doc_locality[d] for d in docs} - train_localities - {""}
    return docs, localities


def pseudo_label(cfg: TrainConfig, split: Split, taxonomy: Taxonomy, teacher: Predictor) -> PseudoLabels:
    """Up to ``cfg.distill_max_sentences`` sentences of ``cfg.distill_corpus`` with the teacher's scores."""
    labelled = read_labelled(find_input(cfg.data), taxonomy)
    seen = [*split.train, *split.validation]
    doc_locality = {str(r["doc"]): str(r.get("locality") or "") for r in labelled}
    docs, localities = outside_training(doc_locality, train_docs={str(r["doc"]) for r in seen})
    corpus = read_pretrain_corpus(
        list(cfg.distill_corpus),
        exclude_docs=docs,
        exclude_localities=localities,
        exclude_sentences=[r["text"] for r in seen],
        piece_chars=cfg.max_length - 2,
        max_sentences=cfg.distill_max_sentences,
        seed=cfg.seed,
    )
    texts = corpus.texts
    out = PseudoLabels(
        stats={
            "corpus": list(cfg.distill_corpus),
            "soft": cfg.distill_soft,
            "excluded_docs": len(docs),
            "excluded_localities": len(localities),
            "pages": corpus.pages,
            "pages_excluded": corpus.pages_excluded,
            "dropped_as_labelled_or_excluded": corpus.sentences_shared_with_excluded,
            "sentences": len(texts),
        }
    )
    if not texts:
        return out
    probs, _ = teacher.predict_proba(texts)
    hard = decide(probs, teacher.thresholds, taxonomy)
    for i, (text, row, labels) in enumerate(zip(texts, probs, hard, strict=True)):
        targets = [round(float(p), 6) for p in row] if cfg.distill_soft else taxonomy.multi_hot(labels)
        out.records.append({"id": f"pseudo-{i}", "doc": PSEUDO_DOC, "text": text, "labels": labels, "targets": targets})
    out.stats["label_mean"] = {i: float(v) for i, v in zip(taxonomy.ids, np.mean(probs, axis=0), strict=True)}
    return out
