"""``policytag labels push``: sentences into a Label Studio project as tasks, with model pre-annotations.

Idempotent: a task is identified by ``data.sentence_id``; a sentence already in the project is updated
in place (its data, and a prediction of a model version it does not have yet), never imported twice.

Strategies (which sentences, in which order, before ``--limit``):

- ``all``: every sentence of the file, in file order;
- ``unlabelled``: those without a label yet: not in the gold or consolidated files and without a
  submitted (not skipped) annotation in the project, in file order;
- ``uncertainty``: the unlabelled ones, most uncertain first (needs ``--model``): a sentence's
  confidence is its smallest normalised margin to a per-label threshold (``confidence``); 0 means a
  score sits on a threshold;
- ``errors``: the sentences of a model folder's ``errors.jsonl`` (:func:`read_errors`; written by
  training with ``thresholds: oof``), highest out-of-fold loss first: labelled sentences the model,
  trained without their locality, got most wrong, i.e. a wrong gold label or a pattern the model
  lacks. They are labelled already, so ``labelled`` does not filter them; those not in the sentences
  file (or never labellable there) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from policytag.core.jsonl import DataError, iter_jsonl
from policytag.core.taxonomy import Taxonomy
from policytag.labels.corpus import is_labellable
from policytag.labels.labelstudio.client import Client, LabelStudioError, ProjectInfo, find_project, list_tasks
from policytag.labels.labelstudio.config import CHOICES_NAME, TEXT_NAME, check_label_config, label_config

__all__ = [
    "ERRORS_FILE",
    "STRATEGIES",
    "Answer",
    "PreAnnotator",
    "PushPlan",
    "candidates",
    "choices_result",
    "confidence",
    "errors_path",
    "model_version",
    "plan_push",
    "prediction_payload",
    "push",
    "read_errors",
    "read_sentences",
    "select",
]

STRATEGIES = ("all", "errors", "uncertainty", "unlabelled")
ERRORS_FILE = "errors.jsonl"  # in a model folder: training/model_folder.py, ERRORS
_IMPORT_CHUNK = 500


def read_sentences(path: str | Path) -> list[dict[str, Any]]:
    """Sentence records ``{"id", "text", "doc", "index"}``; a missing or mistyped field names file, line and field.

    Sentences that are never labelled (a cut-off ``fragment``, a ``duplicate_of`` another sentence; see
    :mod:`policytag.labels.corpus`) are left out: they would only be annotators' work for nothing.
    """
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, rec in iter_jsonl(path):
        for name in ("id", "text", "doc"):
            value = rec.get(name)
            if not isinstance(value, str) or not value.strip():
                raise DataError(path, line, "missing, empty or not a string", field=name)
        if not isinstance(rec.get("index"), int) or isinstance(rec.get("index"), bool):
            raise DataError(path, line, "missing or not an integer", field="index")
        if rec["id"] in seen:
            raise DataError(path, line, f"sentence {rec['id']} already on line {seen[rec['id']]}", field="id")
        seen[rec["id"]] = line
        if not is_labellable(rec):
            continue
        out.append({"id": rec["id"], "text": rec["text"], "doc": rec["doc"], "index": rec["index"]})
    return out


def errors_path(model_dir: str | Path) -> Path:
    """A model folder's ``errors.jsonl``; ``FileNotFoundError`` naming it (and what writes it) when missing."""
    path = Path(model_dir) / ERRORS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no {ERRORS_FILE} in the model folder {model_dir}; it is written by training with "
            "`thresholds: oof` (e.g. training/configs/tfidf-oof.yaml), or pass --errors FILE"
        )
    return path


def read_errors(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an ``errors.jsonl`` (``id``, ``text``, ``labels``, ``predicted``, ``loss``), highest loss first.

    The file is written highest loss first already; sorting again (stably) keeps the queue's order
    right for a file edited or concatenated by hand. A bad row names file, line and field.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: no such errors file; {ERRORS_FILE} is written into a model folder by training with "
            "`thresholds: oof`"
        )
    rows: list[dict[str, Any]] = []
    for line, rec in iter_jsonl(path):
        if rec.get("id") is not None and not isinstance(rec["id"], str):  # null: data without ids, never matched
            raise DataError(path, line, "not a string or null", field="id")
        if not isinstance(rec.get("text"), str) or not rec["text"].strip():
            raise DataError(path, line, "missing, empty or not a string", field="text")
        for name in ("labels", "predicted"):
            value = rec.get(name)
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise DataError(path, line, "missing or not a list of label ids", field=name)
        loss = rec.get("loss")
        if not isinstance(loss, int | float) or isinstance(loss, bool) or not np.isfinite(loss):
            raise DataError(path, line, "missing or not a finite number", field="loss")
        rows.append(rec)
    return sorted(rows, key=lambda r: -float(r["loss"]))


def model_version(manifest: dict[str, Any]) -> str:
    """``<model name>-<first 12 hex digits of the training data fingerprint>``."""
    name = str(manifest.get("name", "unnamed"))
    fingerprint = str(manifest.get("data_fingerprint", "")).removeprefix("sha256:")
    return f"{name}-{fingerprint[:12]}" if fingerprint else name


def confidence(scores: Sequence[float], thresholds: Sequence[float]) -> float:
    """The smallest normalised distance of a label's score from its threshold, in [0, 1].

    For each label, ``(p - t) / (1 - t)`` above the threshold and ``(t - p) / t`` below: 0 on the
    threshold, 1 at a certain 0 or 1. The sentence is as uncertain as its most uncertain label.
    """
    p = np.asarray(scores, dtype=float)
    t = np.clip(np.asarray(thresholds, dtype=float), 1e-6, 1 - 1e-6)
    margins = np.where(p >= t, (p - t) / (1 - t), (t - p) / t)
    return float(np.clip(margins.min(), 0.0, 1.0))


def choices_result(
    labels: Sequence[str], *, from_name: str = CHOICES_NAME, to_name: str = TEXT_NAME
) -> list[dict[str, Any]]:
    """A Label Studio ``result`` selecting ``labels`` (ids, as the editor stores an aliased choice)."""
    return [{"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": list(labels)}}]


def prediction_payload(
    labels: Sequence[str],
    scores: Mapping[str, float],
    thresholds: Sequence[float],
    taxonomy_ids: Sequence[str],
    version: str,
    *,
    from_name: str = CHOICES_NAME,
    to_name: str = TEXT_NAME,
) -> tuple[dict[str, Any], float]:
    """A model's answer for one sentence as a Label Studio prediction, and the sentence's confidence.

    The one place predictions are built, for ``push`` (pre-annotations) and the ML backend
    (``serving/api/routes/labelstudio.py``): ``{"result": <the labels as choices>, "score": <confidence>,
    "model_version": version}``.
    """
    conf = confidence([scores[i] for i in taxonomy_ids], thresholds)
    result = choices_result(labels, from_name=from_name, to_name=to_name)
    return {"result": result, "score": round(conf, 6), "model_version": version}, conf


class Answer(Protocol):
    """A model's answer for one sentence: the labels passing their thresholds, and every label's score."""

    @property
    def labels(self) -> Sequence[str]: ...

    @property
    def scores(self) -> Mapping[str, float]: ...


class PreAnnotator(Protocol):
    """What ``push`` reads from a model (training's ``Predictor`` has all of it), so labels never imports training."""

    @property
    def manifest(self) -> dict[str, Any]: ...

    @property
    def taxonomy(self) -> Taxonomy: ...

    @property
    def thresholds(self) -> Iterable[float]: ...

    def predict(self, texts: Sequence[str]) -> Sequence[Answer]: ...


@dataclass
class Scored:
    """A sentence with the model's labels, confidence and the prediction to attach."""

    labels: list[str]
    confidence: float
    prediction: dict[str, Any]


def score_sentences(
    predictor: PreAnnotator, sentences: list[dict[str, Any]], *, progress: bool = False
) -> dict[str, Scored]:
    """Run the predictor over the sentences (in batches, with a progress bar) and build their predictions."""
    from tqdm import tqdm

    version = model_version(predictor.manifest)
    taxonomy: Taxonomy = predictor.taxonomy
    thresholds = [float(x) for x in predictor.thresholds]
    out: dict[str, Scored] = {}
    batch = 64
    for start in tqdm(range(0, len(sentences), batch), desc="predicting", unit="batch", disable=not progress):
        chunk = sentences[start : start + batch]
        for s, pred in zip(chunk, predictor.predict([s["text"] for s in chunk]), strict=True):
            payload, conf = prediction_payload(pred.labels, pred.scores, thresholds, taxonomy.ids, version)
            out[s["id"]] = Scored(labels=list(pred.labels), confidence=conf, prediction=payload)
    return out


def select(
    sentences: list[dict[str, Any]],
    strategy: str,
    *,
    labelled: set[str],
    scored: dict[str, Scored] | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The sentences to push, in push order (see the module docstring for the strategies).

    ``errors`` (rows of :func:`read_errors`) is the ``errors`` strategy's queue.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    chosen = candidates(sentences, strategy, labelled=labelled, errors=errors)
    if strategy == "uncertainty":
        if scored is None:
            raise ValueError("--strategy uncertainty needs --model (the uncertainty is the model's)")
        order = {s["id"]: n for n, s in enumerate(chosen)}
        chosen.sort(key=lambda s: (scored[s["id"]].confidence, order[s["id"]]))
    if limit is not None:
        if limit < 0:
            raise ValueError(f"--limit must be >= 0, got {limit}")
        chosen = chosen[:limit]
    return chosen


def candidates(
    sentences: Sequence[dict[str, Any]],
    strategy: str,
    *,
    labelled: set[str],
    errors: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The sentences a strategy may push, before ordering (``errors``: already in loss order)."""
    if strategy == "all":
        return list(sentences)
    if strategy == "errors":
        if errors is None:
            raise ValueError("--queue errors needs --errors FILE or --model DIR (its errors.jsonl)")
        by_id = {s["id"]: s for s in sentences}
        seen: set[str] = set()
        out = []
        for row in errors:
            sid = row.get("id")
            if isinstance(sid, str) and sid in by_id and sid not in seen:
                seen.add(sid)
                out.append(by_id[sid])
        return out
    return [s for s in sentences if s["id"] not in labelled]


def task_data(sentence: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a sentence's task."""
    return {"text": sentence["text"], "sentence_id": sentence["id"], "doc": sentence["doc"], "index": sentence["index"]}


@dataclass
class PushPlan:
    """What a push does: tasks to create, tasks whose data to update, predictions to add to existing tasks."""

    project: str
    project_exists: bool
    create: list[dict[str, Any]] = field(default_factory=list)  # task payloads {"data", "predictions"?}
    update: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (task id, new data)
    add_predictions: list[dict[str, Any]] = field(default_factory=list)  # {"task", "result", "score", ...}
    unchanged: int = 0
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # sentence id -> task ids (found, not made)

    def summary(self) -> str:
        parts = [
            f"{len(self.create)} new tasks",
            f"{len(self.update)} tasks updated",
            f"{len(self.add_predictions)} predictions added to existing tasks",
            f"{self.unchanged} unchanged",
        ]
        head = f"project {self.project!r}" + ("" if self.project_exists else " (new)")
        return f"{head}: " + ", ".join(parts)


def existing_tasks(tasks: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, list[int]]]:
    """Tasks by ``data.sentence_id`` (the lowest id where several share one) and the duplicates found."""
    by_sentence: dict[str, list[dict[str, Any]]] = {}
    for t in tasks:
        sid = (t.get("data") or {}).get("sentence_id")
        if isinstance(sid, str):
            by_sentence.setdefault(sid, []).append(t)
    chosen = {sid: min(ts, key=lambda t: int(t["id"])) for sid, ts in by_sentence.items()}
    dupes = {sid: sorted(int(t["id"]) for t in ts) for sid, ts in by_sentence.items() if len(ts) > 1}
    return chosen, dupes


def annotated_sentences(tasks: list[dict[str, Any]]) -> set[str]:
    """Sentence ids of tasks with at least one submitted (not skipped) annotation."""
    out = set()
    for t in tasks:
        anns = t.get("annotations") or []
        if any(not a.get("was_cancelled") for a in anns if isinstance(a, dict)):
            sid = (t.get("data") or {}).get("sentence_id")
            if isinstance(sid, str):
                out.add(sid)
    return out


def _model_versions(task: dict[str, Any]) -> set[str]:
    versions = set()
    for p in task.get("predictions") or []:
        if isinstance(p, dict) and p.get("model_version"):
            versions.add(str(p["model_version"]))
    return versions


def plan_push(
    project: ProjectInfo | None,
    title: str,
    chosen: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
    scored: dict[str, Scored] | None,
) -> PushPlan:
    """Compare the chosen sentences with the project's tasks and decide what to create, update or add."""
    plan = PushPlan(project=title, project_exists=project is not None)
    by_sentence, plan.duplicates = existing_tasks(tasks)
    for s in chosen:
        data = task_data(s)
        prediction = scored[s["id"]].prediction if scored is not None else None
        task = by_sentence.get(s["id"])
        if task is None:
            payload: dict[str, Any] = {"data": data}
            if prediction is not None:
                payload["predictions"] = [prediction]
            plan.create.append(payload)
            continue
        changed = False
        if {k: (task.get("data") or {}).get(k) for k in data} != data:
            plan.update.append((int(task["id"]), {**(task.get("data") or {}), **data}))
            changed = True
        if prediction is not None and prediction["model_version"] not in _model_versions(task):
            plan.add_predictions.append({"task": int(task["id"]), **prediction})
            changed = True
        plan.unchanged += not changed
    return plan


def ensure_project(client: Client, title: str, taxonomy: Taxonomy, *, create: bool = True) -> ProjectInfo | None:
    """The project titled ``title``, created with the taxonomy's config if missing; a mismatching config is refused."""
    project = find_project(client, title)
    if project is not None:
        check_label_config(project.label_config, taxonomy, project=f"project {title!r} (id {project.id})")
        return project
    if not create:
        return None
    made = client.call(
        f"creating project {title!r}",
        client.sdk.projects.create,
        title=title,
        label_config=label_config(taxonomy),
        description="Sentences of rule-of-law reports, tagged with the policytag taxonomy (labels/taxonomy.yaml).",
    )
    return ProjectInfo(id=int(made.id), title=title, label_config=label_config(taxonomy))


def apply_plan(client: Client, project: ProjectInfo, plan: PushPlan, *, progress: bool = False) -> None:
    """Carry out a plan: bulk imports of new tasks (with their predictions), data updates, prediction imports."""
    from tqdm import tqdm

    sdk = client.sdk
    with tqdm(
        total=len(plan.create), desc="importing tasks", unit="task", disable=not progress or not plan.create
    ) as bar:
        for start in range(0, len(plan.create), _IMPORT_CHUNK):
            chunk = plan.create[start : start + _IMPORT_CHUNK]
            answer = client.call(
                f"importing {len(chunk)} tasks into project {project.id}",
                sdk.projects.import_tasks,
                project.id,
                request=chunk,
                return_task_ids=True,
            )
            count = getattr(answer, "task_count", None)
            if count is not None and count != len(chunk):
                raise LabelStudioError(f"project {project.id}: imported {count} of {len(chunk)} tasks")
            bar.update(len(chunk))
    for task_id, data in tqdm(plan.update, desc="updating tasks", unit="task", disable=not progress or not plan.update):
        client.call(f"updating task {task_id}", sdk.tasks.update, str(task_id), data=data, project=project.id)
    for start in range(0, len(plan.add_predictions), _IMPORT_CHUNK):
        chunk = plan.add_predictions[start : start + _IMPORT_CHUNK]
        client.call(
            f"importing {len(chunk)} predictions into project {project.id}",
            sdk.projects.import_predictions,
            project.id,
            request=chunk,
        )


@dataclass
class PushResult:
    """The plan that was (or, with ``dry_run``, would be) carried out, and the task count afterwards."""

    plan: PushPlan
    project_id: int | None
    tasks_after: int | None
    model_version: str | None = None


def push(
    client: Client,
    title: str,
    sentences: list[dict[str, Any]],
    taxonomy: Taxonomy,
    *,
    predictor: PreAnnotator | None = None,
    strategy: str = "all",
    limit: int | None = None,
    labelled: set[str] | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    dry_run: bool = False,
    progress: bool = False,
) -> PushResult:
    """Push ``sentences`` into the project ``title`` (see the module docstring); nothing is written with ``dry_run``.

    ``errors``: the rows of an ``errors.jsonl`` (:func:`read_errors`), for ``strategy="errors"``.
    """
    if predictor is not None and tuple(predictor.taxonomy.ids) != tuple(taxonomy.ids):
        raise ValueError(
            f"the model's taxonomy {list(predictor.taxonomy.ids)} differs from the project's {list(taxonomy.ids)}"
        )
    project = ensure_project(client, title, taxonomy, create=not dry_run)
    tasks = list_tasks(client, project.id) if project is not None else []
    done = set(labelled or set()) | annotated_sentences(tasks)
    pool = candidates(sentences, strategy, labelled=done, errors=errors)
    if strategy == "errors" and limit is not None:  # the order is known before scoring: score only what is sent
        pool = pool[: max(limit, 0)]
    scored = score_sentences(predictor, pool, progress=progress) if predictor is not None else None
    chosen = select(sentences, strategy, labelled=done, scored=scored, errors=errors, limit=limit)
    plan = plan_push(project, title, chosen, tasks, scored)
    version = model_version(predictor.manifest) if predictor is not None else None
    if dry_run or project is None:
        return PushResult(
            plan=plan, project_id=project.id if project else None, tasks_after=None, model_version=version
        )
    apply_plan(client, project, plan, progress=progress)
    after = len(list_tasks(client, project.id, fields="task_only"))
    return PushResult(plan=plan, project_id=project.id, tasks_after=after, model_version=version)
