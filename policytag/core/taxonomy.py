"""The policy-category taxonomy: loading, validation and label-set checks.

Label ids are stable across data files, Label Studio projects, models and API answers.
``other`` is exclusive: it is given only when no category fits.

Example:
    >>> tax = load_taxonomy()
    >>> tax.ids[:2]
    ('enforcement', 'mediation')
    >>> tax.check_labels(["mediation", "legal_aid"])
    ['mediation', 'legal_aid']
    >>> tax.multi_hot(["other"])[-1]
    1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from policytag.core.jsonl import DataError
from policytag.core.paths import data_path, find_input

__all__ = ["OTHER", "Label", "Taxonomy", "TaxonomyError", "load_taxonomy"]

OTHER = "other"
_LABEL_FIELDS = ("id", "zh", "en", "description")


class TaxonomyError(ValueError):
    """A taxonomy file that is not usable; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Label:
    """One category: stable ``id``, Chinese name ``zh``, English name ``en`` and ``description``."""

    id: str
    zh: str
    en: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    """An ordered label set; the order is the order of multi-hot vectors and model outputs."""

    labels: tuple[Label, ...]
    rules: str = ""
    version: int = 1
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        ids = [label.id for label in self.labels]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise TaxonomyError(f"{self.source or 'taxonomy'}: duplicate label ids {dupes}")
        if OTHER not in ids:
            raise TaxonomyError(f"{self.source or 'taxonomy'}: the label '{OTHER}' is missing")

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(label.id for label in self.labels)

    @cached_property
    def index(self) -> dict[str, int]:
        """Label id → position in the taxonomy order."""
        return {label_id: i for i, label_id in enumerate(self.ids)}

    @cached_property
    def categories(self) -> tuple[str, ...]:
        """Every id except ``other``."""
        return tuple(i for i in self.ids if i != OTHER)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, label_id: str) -> Label:
        return self.labels[self.index[label_id]]

    def check_labels(self, labels: Any) -> list[str]:
        """Return ``labels`` as a list if it is a valid label set, else raise ``ValueError``.

        A valid set is a non-empty list of known ids without repeats, where ``other`` stands alone.
        """
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError(f"expected a list of label ids, got {labels!r}")
        if not labels:
            raise ValueError("empty label list (use 'other' when no category fits)")
        unknown = [x for x in labels if x not in self.index]
        if unknown:
            raise ValueError(f"unknown label id {unknown[0]!r} (known: {', '.join(self.ids)})")
        if len(set(labels)) != len(labels):
            raise ValueError(f"repeated label id in {labels}")
        if OTHER in labels and len(labels) > 1:
            raise ValueError(f"'{OTHER}' is exclusive but is combined with {[x for x in labels if x != OTHER]}")
        return list(labels)

    def sort(self, labels: Iterable[str]) -> list[str]:
        """``labels`` in taxonomy order."""
        return sorted(labels, key=self.index.__getitem__)

    def multi_hot(self, labels: Iterable[str]) -> list[float]:
        """A float vector in taxonomy order with 1.0 at each given label."""
        vec = [0.0] * len(self.labels)
        for label_id in labels:
            vec[self.index[label_id]] = 1.0
        return vec

    def from_multi_hot(self, vector: Sequence[float | int | bool]) -> list[str]:
        """The label ids set in ``vector`` (values > 0.5), in taxonomy order."""
        if len(vector) != len(self.labels):
            raise ValueError(f"vector has {len(vector)} entries, taxonomy has {len(self.labels)} labels")
        return [self.ids[i] for i, v in enumerate(vector) if float(v) > 0.5]

    def to_dict(self) -> dict[str, Any]:
        """A plain-data snapshot (what model folders store as ``taxonomy.json``)."""
        return {
            "version": self.version,
            "labels": [{f: getattr(label, f) for f in _LABEL_FIELDS} for label in self.labels],
            "rules": self.rules,
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> Taxonomy:
        """Build and validate a taxonomy from plain data (a parsed YAML or JSON file)."""
        if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
            raise TaxonomyError(f"{source}: expected a mapping with a 'labels' list")
        labels = []
        for n, item in enumerate(data["labels"], start=1):
            if not isinstance(item, dict):
                raise TaxonomyError(f"{source}: label #{n} is not a mapping")
            missing = [f for f in _LABEL_FIELDS if not isinstance(item.get(f), str) or not item[f].strip()]
            if missing:
                raise TaxonomyError(f"{source}: label #{n} ({item.get('id', '?')}) lacks {', '.join(missing)}")
            extra = sorted(set(item) - set(_LABEL_FIELDS))
            if extra:
                raise TaxonomyError(f"{source}: label #{n} ({item['id']}) has unknown fields {extra}")
            if not item["id"].isidentifier() or item["id"] != item["id"].lower():
                raise TaxonomyError(f"{source}: label id {item['id']!r} must be lower_snake_case")
            labels.append(Label(**{f: item[f].strip() for f in _LABEL_FIELDS}))
        version = data.get("version", 1)
        if not isinstance(version, int):
            raise TaxonomyError(f"{source}: 'version' must be an integer")
        return cls(labels=tuple(labels), rules=str(data.get("rules", "")), version=version, source=source)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy YAML (or JSON) file; the default is ``labels/taxonomy.yaml``."""
    p = find_input(path) if path is not None else data_path("taxonomy")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise TaxonomyError(f"{p}: cannot read ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TaxonomyError(f"{p}: not valid YAML ({e})") from None
    return Taxonomy.from_dict(data, source=str(p))


def check_record_labels(taxonomy: Taxonomy, record: dict[str, Any], *, path: str | Path, line: int) -> list[str]:
    """Validate ``record["labels"]`` against ``taxonomy``; errors name the file, line and field."""
    if "labels" not in record:
        raise DataError(path, line, "missing", field="labels")
    try:
        return taxonomy.check_labels(record["labels"])
    except ValueError as e:
        raise DataError(path, line, str(e), field="labels") from None
