"""Label Studio's ML-backend protocol without HTTP: the project's config, its tasks' texts, the predictions.

The server's routes (:mod:`policytag.serving.api.routes.labelstudio`) parse requests and answer; what the
protocol means lives here: which task field holds the sentence and which tag names and stored choices a
prediction uses (read from the project's labelling config), and the prediction itself, built by the same
function as ``policytag labels push``'s pre-annotations (:func:`policytag.labels.labelstudio.push.prediction_payload`).

The served model is typed structurally, as push types it (:class:`~policytag.labels.labelstudio.push.PreAnnotator`,
:class:`~policytag.labels.labelstudio.push.Answer`), so this package never imports training.

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> from policytag.labels.labelstudio.config import label_config
    >>> taxonomy = load_taxonomy()
    >>> config = project_config(label_config(taxonomy), taxonomy)
    >>> config.data_field, config.from_name, config.to_name, config.multiple, config.stored["other"]
    ('text', 'labels', 'text', True, 'other')
    >>> task_texts([{"text": "好。"}, {"text": "  "}, {"sentence": "无"}], config)
    {0: '好。'}
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.config import (
    CHOICES_NAME,
    TEXT_NAME,
    ConfigMismatchError,
    ParsedConfig,
    label_config,
    parse_label_config,
)
from policytag.labels.labelstudio.push import Answer, PreAnnotator, model_version, prediction_payload

__all__ = [
    "ProjectConfig",
    "event_summary",
    "project_config",
    "task_predictions",
    "task_texts",
]


@dataclass(frozen=True, kw_only=True)
class ProjectConfig:
    """A project's labelling config as the backend answers it."""

    #: label id -> the choice the config stores for it (the id itself, or the choice showing the Chinese name)
    stored: dict[str, str]
    #: whether the project allows several labels per sentence (else the best scoring one is answered)
    multiple: bool
    #: the task data field holding the sentence
    data_field: str
    #: the ``<Choices>`` tag's name and the tag it labels: a result's ``from_name`` and ``to_name``
    from_name: str
    to_name: str


@functools.lru_cache(maxsize=64)
def _parse(xml: str) -> ParsedConfig:
    # Label Studio sends the same config with every request: parse each one once.
    return parse_label_config(xml)


def _stored_choices(parsed: ParsedConfig, taxonomy: Taxonomy) -> dict[str, str]:
    """Label id → what the config stores for it: the id itself, or the choice showing the label's Chinese name."""
    by_shown = {shown: stored for stored, shown in parsed.choices.items()}
    out = {}
    for label in taxonomy.labels:
        if label.id in parsed.choices:
            out[label.id] = label.id
        elif label.zh in by_shown:
            out[label.id] = by_shown[label.zh]
    return out


def project_config(xml: str | None, taxonomy: Taxonomy) -> ProjectConfig:
    """The project's config (the taxonomy's own when none is given); ``ConfigMismatchError`` when unusable:
    not one ``<Choices>`` tag, or none of its choices a label of the model."""
    parsed = _parse(xml if xml and xml.strip() else label_config(taxonomy))
    stored = _stored_choices(parsed, taxonomy)
    if not stored:
        raise ConfigMismatchError(
            f"none of the config's choices {sorted(parsed.choices)[:20]} is a label of the model "
            f"(ids or Chinese names of {list(taxonomy.ids)})"
        )
    return ProjectConfig(
        data_field=parsed.data_field or TEXT_NAME,
        from_name=parsed.from_name or CHOICES_NAME,
        to_name=parsed.to_name or TEXT_NAME,
        multiple=parsed.multiple,
        stored=stored,
    )


def task_texts(tasks_data: Sequence[Mapping[str, Any]], config: ProjectConfig) -> dict[int, str]:
    """Task position → its sentence, for the tasks whose data holds a non-blank text in the config's field."""
    out = {}
    for i, data in enumerate(tasks_data):
        text = data.get(config.data_field)
        if isinstance(text, str) and text.strip():
            out[i] = text
    return out


def _prediction(
    answer: Answer, config: ProjectConfig, thresholds: list[float], ids: Sequence[str], version: str
) -> dict[str, Any]:
    labels = [lab for lab in answer.labels if lab in config.stored]
    if not config.multiple and len(labels) > 1:
        labels = [max(labels, key=lambda lab: answer.scores[lab])]
    payload, _ = prediction_payload(
        [config.stored[lab] for lab in labels],
        answer.scores,
        thresholds,
        ids,
        version,
        from_name=config.from_name,
        to_name=config.to_name,
    )
    return payload


def task_predictions(
    n_tasks: int, answers: Mapping[int, Answer], config: ProjectConfig, model: PreAnnotator
) -> list[dict[str, Any]]:
    """One prediction per task, in task order (``answers`` by task position: the server batches the sentences
    itself, so ``model`` only lends its version, thresholds and taxonomy); a task without one gets an empty
    result. Each is ``{"result", "score", "model_version"}``: the labels as the config stores them, the
    sentence's confidence (:func:`policytag.labels.labelstudio.push.confidence`)."""
    version = model_version(model.manifest)
    thresholds = [float(t) for t in model.thresholds]
    ids = model.taxonomy.ids
    return [
        _prediction(answers[i], config, thresholds, ids, version)
        if i in answers
        else {"result": [], "score": 0.0, "model_version": version}
        for i in range(n_tasks)
    ]


#: How long a string id may be in an event summary (the summary stays small whatever is sent).
_MAX_ID = 64


def _id_of(value: Any) -> int | str | None:
    """The ``id`` of a payload object when it is a plain id."""
    found = value.get("id") if isinstance(value, dict) else None
    if isinstance(found, int) and not isinstance(found, bool):
        return found
    return found[:_MAX_ID] if isinstance(found, str) else None


def event_summary(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A webhook event, small whatever is sent: its action and the ids of its project, task and annotation.

    Example:
        >>> summary = event_summary("ANNOTATION_CREATED", {"project": {"id": 3, "title": "t"}, "task": 17})
        >>> {k: v for k, v in summary.items() if k != "received_at"}
        {'action': 'ANNOTATION_CREATED', 'project': 3, 'task': None, 'annotation': None}
    """
    return {
        "action": action[:_MAX_ID],
        "project": _id_of(payload.get("project")),
        "task": _id_of(payload.get("task")),
        "annotation": _id_of(payload.get("annotation")),
        "received_at": time.time(),
    }
