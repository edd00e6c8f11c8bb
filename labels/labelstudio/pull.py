"""``policytag labels pull``: annotations out of Label Studio into an append-only log, then one label set per sentence.

**The log** (``labels/annotations.jsonl``) gets one record per version of an annotation:
``{sentence_id, text, doc, labels, annotator, annotation_id, task_id, project, created_at, updated_at,
lead_time, was_cancelled, prediction_model_version, problem}``. A record is new when its
``(annotation_id, updated_at)`` is not in the log yet, so pulling again adds only new or edited
annotations and never rewrites what is there.

**Problems** are reported, never silently dropped or kept: a choice that is neither a label id nor a
Chinese name of the taxonomy, ``other`` combined with a category, or a submitted annotation without a
choice. Such a record is logged with ``problem`` set (and ``labels`` holding the choices as given), listed
with its task id and annotator, and does not count until it is fixed in Label Studio and pulled again.

**Consolidation** (``consolidate``), from the whole log:

1. each annotation counts in its latest version (latest ``updated_at``);
2. skipped (``was_cancelled``) annotations and annotations with a problem do not count;
3. each annotator counts once per sentence, with their latest remaining annotation;
4. the label set chosen by the most annotators wins; a tie (two annotators who disagree, for
   instance) is a **conflict**: listed, and the sentence left out of the annotation-based labels;
5. a sentence of the manual gold set keeps its gold labels unless an annotation decision exists for it
   (a conflict does not supersede gold).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.core.jsonl import DataError, atomic_write_text, iter_jsonl
from policytag.core.taxonomy import OTHER, Taxonomy
from policytag.labels.labelstudio.config import CHOICES_NAME

__all__ = [
    "Consolidation",
    "Problem",
    "annotation_records",
    "append_log",
    "consolidate",
    "read_log",
]

SOURCE = "labelstudio"


@dataclass(frozen=True)
class Problem:
    """An annotation that cannot be used as it is."""

    task_id: int | None
    annotation_id: int | None
    annotator: str
    sentence_id: str | None
    message: str

    def __str__(self) -> str:
        return (
            f"task {self.task_id}, annotation {self.annotation_id} by {self.annotator}"
            f" (sentence {self.sentence_id}): {self.message}"
        )


def _annotator(value: Any, emails: dict[int, str]) -> str:
    if isinstance(value, dict):
        if value.get("email"):
            return str(value["email"])
        value = value.get("id")
    if isinstance(value, int):
        return emails.get(value, f"user-{value}")
    return str(value) if value else "unknown"


def parse_choices(result: Any, taxonomy: Taxonomy) -> tuple[list[str], str | None]:
    """The label ids chosen in an annotation ``result`` and a problem description (``None`` if valid).

    Choices may be stored as ids (an aliased ``<Choice>``, what the editor writes) or as Chinese names.
    """
    by_name = {label.zh: label.id for label in taxonomy.labels}
    chosen: list[str] = []
    unknown: list[str] = []
    if not isinstance(result, list):
        return [], f"result is not a list: {result!r}"
    for item in result:
        if not isinstance(item, dict) or item.get("type") != "choices":
            continue
        if item.get("from_name") != CHOICES_NAME:
            unknown.append(f"<{item.get('from_name')}>")
            continue
        values = (item.get("value") or {}).get("choices")
        if isinstance(values, str):  # a single choice flattened somewhere on the way
            values = [values]
        for v in values or []:
            label = v if v in taxonomy.index else by_name.get(v)
            if label is None:
                unknown.append(str(v))
            elif label not in chosen:
                chosen.append(label)
    if unknown:
        return chosen + unknown, f"unknown choice(s) {unknown} (known: {', '.join(taxonomy.ids)})"
    if not chosen:
        return [], "no choice selected"
    if OTHER in chosen and len(chosen) > 1:
        cats = [c for c in chosen if c != OTHER]
        return taxonomy.sort(chosen), f"'{OTHER}' is exclusive but is combined with {cats}"
    return taxonomy.sort(chosen), None


def annotation_records(
    tasks: list[dict[str, Any]], taxonomy: Taxonomy, *, project: str, emails: dict[int, str] | None = None
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """One log record per annotation of the exported ``tasks``, and the problems found."""
    emails = emails or {}
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for task in tasks:
        data = task.get("data") or {}
        sid = data.get("sentence_id")
        for ann in task.get("annotations") or []:
            annotator = _annotator(ann.get("completed_by"), emails)
            cancelled = bool(ann.get("was_cancelled"))
            labels, problem = ([], None) if cancelled else parse_choices(ann.get("result"), taxonomy)
            if not isinstance(sid, str) or not sid:
                problem = "the task has no data.sentence_id (not pushed by policytag?)"
            if problem:
                problems.append(Problem(task.get("id"), ann.get("id"), annotator, sid, problem))
            prediction = ann.get("prediction") if isinstance(ann.get("prediction"), dict) else {}
            records.append(
                {
                    "sentence_id": sid,
                    "text": data.get("text"),
                    "doc": data.get("doc"),
                    "labels": labels,
                    "annotator": annotator,
                    "annotation_id": ann.get("id"),
                    "task_id": task.get("id"),
                    "project": project,
                    "created_at": ann.get("created_at"),
                    "updated_at": ann.get("updated_at"),
                    "lead_time": ann.get("lead_time"),
                    "was_cancelled": cancelled,
                    "prediction_model_version": (prediction or {}).get("model_version"),
                    "problem": problem,
                }
            )
    return records, problems


def _key(rec: dict[str, Any]) -> tuple[str, str]:
    return (str(rec.get("annotation_id")), str(rec.get("updated_at")))


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The annotation log (empty when the file does not exist yet); a malformed line names file and line."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for line, rec in iter_jsonl(p):
        for name in ("annotation_id", "updated_at", "annotator"):
            if rec.get(name) in (None, ""):
                raise DataError(p, line, "missing", field=name)
        out.append(rec)
    return out


def append_log(path: str | Path, records: Iterable[dict[str, Any]], *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Append the records whose ``(annotation_id, updated_at)`` is new; returns them. Atomic; old lines untouched."""
    p = Path(path)
    seen = {_key(r) for r in read_log(p)}
    new = []
    for r in records:
        if _key(r) not in seen:
            seen.add(_key(r))
            new.append(r)
    if new and not dry_run:
        old = p.read_text(encoding="utf-8") if p.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        atomic_write_text(p, old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new))
    return new


@dataclass
class Consolidation:
    """The labelled set, the conflicts left out, and what was not counted."""

    records: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)  # sentence id -> annotation record
    superseded: list[str] = field(default_factory=list)  # gold ids whose labels an annotation decision replaced
    votes: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # sentence id -> annotator -> labels


def latest_votes(log: list[dict[str, Any]]) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, Any]]]:
    """Per sentence, each annotator's latest counted label set (rules 1-3), and a record per sentence for text/doc."""
    latest_version: dict[str, tuple[int, dict[str, Any]]] = {}
    for n, rec in enumerate(log):
        aid = str(rec["annotation_id"])
        prev = latest_version.get(aid)
        if prev is None or (str(rec["updated_at"]), n) >= (str(prev[1]["updated_at"]), prev[0]):
            latest_version[aid] = (n, rec)
    per: dict[str, dict[str, tuple[str, int, list[str]]]] = {}
    info: dict[str, dict[str, Any]] = {}
    for n, rec in latest_version.values():
        sid = rec.get("sentence_id")
        if not isinstance(sid, str) or rec.get("was_cancelled") or rec.get("problem"):
            continue
        info.setdefault(sid, rec)
        mine = per.setdefault(sid, {})
        stamp = (str(rec["updated_at"]), n)
        old = mine.get(rec["annotator"])
        if old is None or stamp >= (old[0], old[1]):
            mine[rec["annotator"]] = (stamp[0], stamp[1], list(rec["labels"]))
    votes = {sid: {a: v[2] for a, v in sorted(m.items())} for sid, m in per.items()}
    return votes, info


def consolidate(log: list[dict[str, Any]], gold: list[dict[str, Any]], taxonomy: Taxonomy) -> Consolidation:
    """Apply the consolidation rules (module docstring) to the log and the manual gold records."""
    votes, info = latest_votes(log)
    decided: dict[str, dict[str, Any]] = {}
    conflicts: list[dict[str, Any]] = []
    for sid in sorted(votes):
        by_annotator = votes[sid]
        tally = Counter(tuple(taxonomy.sort(labels)) for labels in by_annotator.values())
        ranked = tally.most_common()
        rec = info[sid]
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            conflicts.append({"id": sid, "doc": rec.get("doc"), "text": rec.get("text"), "votes": by_annotator})
            continue
        winner = list(ranked[0][0])
        agreeing = sorted(a for a, labels in by_annotator.items() if tuple(taxonomy.sort(labels)) == ranked[0][0])
        decided[sid] = {
            "id": sid,
            "doc": rec.get("doc"),
            "text": rec.get("text"),
            "labels": winner,
            "annotator": "+".join(agreeing),
            "source": SOURCE,
        }
    records: list[dict[str, Any]] = []
    superseded: list[str] = []
    gold_ids = set()
    for g in gold:
        gold_ids.add(g["id"])
        if g["id"] in decided:
            new = dict(decided[g["id"]])
            if set(new["labels"]) != set(g["labels"]):
                superseded.append(g["id"])
                new["gold_labels"] = list(g["labels"])
            records.append(new)
        else:
            records.append(dict(g))
    records += [decided[sid] for sid in sorted(decided) if sid not in gold_ids]
    return Consolidation(records=records, conflicts=conflicts, decided=decided, superseded=superseded, votes=votes)
