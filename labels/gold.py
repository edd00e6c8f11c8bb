"""The hand-labelled gold set: building it from two annotation passes and an adjudication file.

``labels/passes/pass_a.jsonl`` and ``pass_b.jsonl`` hold ``{"id", "labels", "annotator"}`` for every
sentence of ``labels/sentences.jsonl``; ``adjudication.jsonl`` holds ``{"id", "labels", "reason"}``
for each sentence the passes disagree on, and for the few agreed sentences that a review found
against the rules. The gold record of a sentence is the adjudicated label set where there is one,
else the agreed one; ``"hard": true`` marks every sentence on which the passes disagreed.

Only the sentences that take labels are in the gold set (:func:`policytag.labels.corpus.labellable`: not a
cut-off fragment, not a later copy of another sentence); a first copy carries ``"copies"``, the
number of its other occurrences. With the seeds' manifest, each record also carries its
document's ``locality`` and ``province``, so that evaluation can group by locality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policytag.core.jsonl import DataError, iter_jsonl
from policytag.core.taxonomy import Taxonomy, check_record_labels
from policytag.labels.corpus import labellable
from policytag.labels.manifest import ManifestRow

__all__ = ["Passes", "build_gold", "read_passes"]

ADJUDICATOR = "adjudicator"


@dataclass(frozen=True)
class Passes:
    """Two independent annotation passes and the adjudication of their disagreements, by sentence id."""

    a: dict[str, list[str]]
    b: dict[str, list[str]]
    annotator_a: str
    annotator_b: str
    adjudicated: dict[str, list[str]]


def _read_labels(path: Path, taxonomy: Taxonomy) -> tuple[dict[str, list[str]], set[str]]:
    out: dict[str, list[str]] = {}
    annotators: set[str] = set()
    for line, rec in iter_jsonl(path):
        sid = rec.get("id")
        if not isinstance(sid, str) or not sid:
            raise DataError(path, line, "missing or not a string", field="id")
        if sid in out:
            raise DataError(path, line, f"sentence {sid} appears twice", field="id")
        out[sid] = taxonomy.sort(check_record_labels(taxonomy, rec, path=path, line=line))
        if "annotator" in rec:
            annotators.add(str(rec["annotator"]))
    return out, annotators


def read_passes(folder: str | Path, taxonomy: Taxonomy) -> Passes:
    """Read ``pass_a.jsonl``, ``pass_b.jsonl`` and ``adjudication.jsonl`` from ``folder``."""
    root = Path(folder)
    a, ann_a = _read_labels(root / "pass_a.jsonl", taxonomy)
    b, ann_b = _read_labels(root / "pass_b.jsonl", taxonomy)
    adjudicated, _ = _read_labels(root / "adjudication.jsonl", taxonomy)
    return Passes(
        a=a,
        b=b,
        annotator_a=",".join(sorted(ann_a)) or "pass-a",
        annotator_b=",".join(sorted(ann_b)) or "pass-b",
        adjudicated=adjudicated,
    )


def build_gold(
    sentences: list[dict[str, Any]], passes: Passes, *, documents: dict[str, ManifestRow] | None = None
) -> list[dict[str, Any]]:
    """One gold record per labellable sentence, in corpus order; ``documents`` maps doc ids to manifest rows.

    Raises:
        ValueError: a sentence lacks a pass label, or a disagreement has no adjudication.
    """
    gold = []
    ids = {s["id"] for s in sentences}
    for name, labels in (("pass_a", passes.a), ("pass_b", passes.b), ("adjudication", passes.adjudicated)):
        stray = sorted(set(labels) - ids)
        if stray:
            raise ValueError(f"{name} labels sentences that are not in the corpus: {stray[:5]}")
    for s in labellable(sentences):
        sid = s["id"]
        if sid not in passes.a or sid not in passes.b:
            raise ValueError(f"sentence {sid} is missing from {'pass_a' if sid not in passes.a else 'pass_b'}")
        rec: dict[str, Any] = {"id": sid, "doc": s["doc"], "text": s["text"]}
        if sid in passes.adjudicated:
            rec["labels"] = passes.adjudicated[sid]
            rec["annotator"] = ADJUDICATOR
        elif passes.a[sid] == passes.b[sid]:
            rec["labels"] = passes.a[sid]
            rec["annotator"] = f"{passes.annotator_a}+{passes.annotator_b}"
        else:
            raise ValueError(
                f"sentence {sid}: passes disagree ({passes.a[sid]} vs {passes.b[sid]}) and no adjudication"
            )
        rec["source"] = "manual"
        if passes.a[sid] != passes.b[sid]:
            rec["hard"] = True
        if s.get("copies"):
            rec["copies"] = s["copies"]
        if documents is not None:
            if s["doc"] not in documents:
                raise ValueError(f"sentence {sid}: document {s['doc']} has no manifest row")
            rec["locality"] = documents[s["doc"]].locality
            rec["province"] = documents[s["doc"]].province
        gold.append(rec)
    return gold
