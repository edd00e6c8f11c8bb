"""The ensemble's predictor: the weighted average of its members' calibrated per-label probabilities.

Members score on different scales (a TF-IDF logistic regression with balanced class weights, a BERT
trained with positive weights), so averaging raw scores would let the more extreme member decide.
Each member's scores are first mapped, label by label, to calibrated probabilities by a mapping
fitted on held-out sentences (the validation documents of the training side): Platt scaling (a
logistic curve on the score's logit, two numbers per label) or isotonic regression (a monotone step
curve, its knots). Both are stored as JSON numbers in ``ensemble.json``, so loading unpickles
nothing; the members' own files are written and read by their kinds
(:mod:`policytag.training.kinds.ensemble`).

Example:
    >>> import numpy as np
    >>> cal = Calibration.identity(2)
    >>> cal.apply(np.array([[0.2, 0.9]])).round(3).tolist()
    [[0.2, 0.9]]
    >>> Calibration.from_json({"method": "platt", "a": [1.0], "b": [0.0]}, n_labels=2, where="ensemble.json")
    Traceback (most recent call last):
    ...
    ValueError: ensemble.json: calibration 'a' has 1 numbers, expected one per label (2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from policytag.core.jsonl import read_json_object
from policytag.core.taxonomy import Taxonomy
from policytag.training.predictor_base import Predictor

__all__ = [
    "CALIBRATIONS",
    "ENSEMBLE_FILE",
    "MEMBERS_FOLDER",
    "Calibration",
    "EnsemblePredictor",
    "Member",
    "fit_calibration",
    "read_ensemble_file",
]

ENSEMBLE_FILE = "ensemble.json"  # members, weights and calibrations
MEMBERS_FOLDER = "members"  # one subfolder per member, written by the member's kind
CALIBRATIONS = ("platt", "isotonic")

# A label needs this many held-out positives (and one negative) before a mapping is fitted for it;
# with fewer, the member's own score is kept (identity), since two points fit any curve.
MIN_POSITIVES = 2
_EPS = 1e-6

Method = Literal["platt", "isotonic", "identity"]


@dataclass(frozen=True)
class Calibration:
    """Per-label maps from a member's score to a calibrated probability.

    ``platt``: ``sigmoid(a * logit(p) + b)`` with ``a >= 0`` (monotone); ``isotonic``: linear
    interpolation through the knots ``(x, y)``, flat beyond them. ``how`` says per label whether the
    map was fitted or left as the identity (too few held-out positives).
    """

    method: Method
    a: tuple[float, ...] = ()
    b: tuple[float, ...] = ()
    x: tuple[tuple[float, ...], ...] = ()
    y: tuple[tuple[float, ...], ...] = ()
    how: tuple[str, ...] = ()

    @classmethod
    def identity(cls, n_labels: int) -> Calibration:
        return cls("platt", a=(1.0,) * n_labels, b=(0.0,) * n_labels, how=("identity",) * n_labels)

    @property
    def n_labels(self) -> int:
        return len(self.a) if self.method == "platt" else len(self.x)

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of ``probs`` (sentences × labels)."""
        if probs.ndim != 2 or probs.shape[1] != self.n_labels:
            raise ValueError(f"scores {probs.shape} do not match a calibration of {self.n_labels} labels")
        if self.method == "platt":
            z = _logit(probs.astype(np.float64))
            return _sigmoid(z * np.asarray(self.a) + np.asarray(self.b))
        cols = [np.interp(probs[:, j], self.x[j], self.y[j]) for j in range(self.n_labels)]
        return np.stack(cols, axis=1) if cols else np.zeros_like(probs, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        if self.method == "platt":
            return {"method": "platt", "a": list(self.a), "b": list(self.b), "how": list(self.how)}
        return {
            "method": self.method,
            "x": [list(v) for v in self.x],
            "y": [list(v) for v in self.y],
            "how": list(self.how),
        }

    @classmethod
    def from_json(cls, data: Any, *, n_labels: int, where: str) -> Calibration:
        """The calibration stored as ``data``; a ValueError names ``where`` and the field that is wrong."""
        if not isinstance(data, dict) or data.get("method") not in CALIBRATIONS:
            raise ValueError(f"{where}: calibration 'method' must be one of {CALIBRATIONS}")
        how = tuple(str(h) for h in data.get("how", ["fitted"] * n_labels))
        if data["method"] == "platt":
            a, b = (_numbers(data.get(k), n_labels, where=f"{where}: calibration {k!r}") for k in ("a", "b"))
            if any(v < 0 for v in a):
                raise ValueError(f"{where}: calibration 'a' must be >= 0 (a monotone map)")
            return cls("platt", a=a, b=b, how=how)
        xs, ys = data.get("x"), data.get("y")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != n_labels or len(ys) != n_labels:
            raise ValueError(f"{where}: isotonic calibration needs 'x' and 'y' with one list per label ({n_labels})")
        x = tuple(_numbers(v, None, where=f"{where}: calibration 'x'") for v in xs)
        y = tuple(_numbers(v, len(x[j]), where=f"{where}: calibration 'y'") for j, v in enumerate(ys))
        if any(not k or list(k) != sorted(k) for k in x):
            raise ValueError(f"{where}: isotonic knots 'x' must be non-empty and increasing")
        return cls("isotonic", x=x, y=y, how=how)


def _numbers(value: Any, n: int | None, *, where: str) -> tuple[float, ...]:
    """``value`` as finite floats (``n`` of them when given); a ValueError naming ``where`` otherwise."""
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{where} must be a list of numbers")
    if n is not None and len(value) != n:
        raise ValueError(f"{where} has {len(value)} numbers, expected one per label ({n})")
    if not all(math.isfinite(v) for v in value):
        raise ValueError(f"{where} holds a number that is not finite")
    return tuple(float(v) for v in value)


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.log(q) - np.log1p(-q)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # exact sigmoid without overflow warnings


def fit_calibration(probs: np.ndarray, targets: np.ndarray, *, method: str) -> Calibration:
    """Per-label maps from a member's held-out scores ``probs`` to ``targets`` (0/1, same shape)."""
    if probs.shape != targets.shape or probs.ndim != 2:
        raise ValueError(f"scores {probs.shape} and targets {targets.shape} must be equal 2-d shapes")
    if method not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {method!r}")
    y = targets.astype(bool)
    usable = [int(y[:, j].sum()) >= MIN_POSITIVES and not y[:, j].all() for j in range(y.shape[1])]
    how = tuple("fitted" if ok else "identity (too few held-out positives)" for ok in usable)
    if method == "platt":
        params = [_fit_platt(probs[:, j], y[:, j]) if ok else (1.0, 0.0) for j, ok in enumerate(usable)]
        return Calibration("platt", a=tuple(p[0] for p in params), b=tuple(p[1] for p in params), how=how)
    knots = [_fit_isotonic(probs[:, j], y[:, j]) if ok else ((0.0, 1.0), (0.0, 1.0)) for j, ok in enumerate(usable)]
    return Calibration("isotonic", x=tuple(k[0] for k in knots), y=tuple(k[1] for k in knots), how=how)


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's fit: ``(a, b)`` of ``sigmoid(a * logit(p) + b)``, with his smoothed targets and ``a >= 0``."""
    from sklearn.linear_model import LogisticRegression

    z = _logit(scores.astype(np.float64))
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    # Platt (1999): targets pulled off 0 and 1 by the class counts, against overconfidence on few examples.
    t = np.where(y, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    # Soft targets as two weighted copies of each sentence (positive with weight t, negative with 1 - t):
    # the same cross-entropy; a large C leaves it unregularised.
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(np.concatenate([z, z])[:, None], np.r_[np.ones(len(z)), np.zeros(len(z))], sample_weight=np.r_[t, 1 - t])
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if a < 0:  # a score that falls as the label gets likelier: keep the map monotone, the base rate alone
        return 0.0, float(_logit(np.array([t.mean()]))[0])
    return a, b


def _fit_isotonic(scores: np.ndarray, y: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The knots of an isotonic regression of ``y`` on ``scores`` (clipped to [0, 1] beyond them)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores.astype(np.float64), y.astype(float))
    return tuple(float(v) for v in iso.X_thresholds_), tuple(float(v) for v in iso.y_thresholds_)


@dataclass
class Member:
    """One member of an ensemble: its name (its subfolder), kind, predictor, weight and calibration."""

    name: str
    kind: str
    predictor: Predictor
    weight: float
    calibration: Calibration

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"member name {self.name!r} must be a plain folder name")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise ValueError(f"member {self.name}: weight must be a finite number >= 0, got {self.weight}")
        if self.calibration.n_labels != len(self.predictor.taxonomy):
            raise ValueError(
                f"member {self.name}: calibration of {self.calibration.n_labels} labels for a model of "
                f"{len(self.predictor.taxonomy)}"
            )


@dataclass
class EnsemblePredictor(Predictor):
    """The weighted mean of the members' calibrated probabilities (weights sum to 1)."""

    members: list[Member] = field(default_factory=list)
    requested_numerics: str = "fp32"

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"ensemble member names must be distinct, got {names}")
        for m in self.members:
            if list(m.predictor.taxonomy.ids) != list(self.taxonomy.ids):
                raise ValueError(f"member {m.name}: its labels differ from the ensemble's")
        total = sum(m.weight for m in self.members)
        if not total > 0:
            raise ValueError("ensemble weights must not all be 0")
        for m in self.members:
            m.weight = m.weight / total

    def warm_up(self) -> int:
        """Each member's warm-up (a BERT member runs every batch shape it can make)."""
        return sum(m.predictor.warm_up() for m in self.members)

    def member_probabilities(self, texts: Sequence[str]) -> tuple[dict[str, np.ndarray], list[bool]]:
        """Each member's calibrated probabilities, by name, and per text whether any member truncated it."""
        out: dict[str, np.ndarray] = {}
        truncated = [False] * len(texts)
        for m in self.members:
            probs, cut = m.predictor.predict_proba(texts)
            out[m.name] = m.calibration.apply(np.asarray(probs, dtype=np.float64))
            truncated = [a or b for a, b in zip(truncated, cut, strict=True)]
        return out, truncated

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        per_member, truncated = self.member_probabilities(texts)
        mean = sum(m.weight * per_member[m.name] for m in self.members)
        return np.asarray(mean, dtype=np.float64), truncated

    @property
    def numerics_info(self) -> dict[str, Any]:
        """The numerics of the neural members (the first that is not fp32 names ``used``); each member's too."""
        infos = {m.name: m.predictor.numerics_info for m in self.members}
        used = next((i["used"] for i in infos.values() if i["used"] != "fp32"), "fp32")
        reason = "; ".join(f"{name}: {i['used']} ({i['reason']})" for name, i in infos.items())
        return {"requested": self.requested_numerics, "used": used, "reason": reason, "members": infos}

    def to_json(self, *, details: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The ensemble file's content; ``details`` adds fields per member name (its base, max_length)."""
        details = details or {}
        return {
            "model_type": "policytag-ensemble",
            "rule": "mean of the members' calibrated probabilities, weighted; then the thresholds in thresholds.json",
            "labels": list(self.taxonomy.ids),
            "members": [
                {
                    "name": m.name,
                    "kind": m.kind,
                    "folder": f"{MEMBERS_FOLDER}/{m.name}",
                    "weight": m.weight,
                    **details.get(m.name, {}),
                    "calibration": m.calibration.to_json(),
                }
                for m in self.members
            ],
        }


def read_ensemble_file(folder: Path, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """The members listed by ``folder/ensemble.json``, checked, each with its ``Calibration`` parsed.

    Returns dicts with ``name``, ``kind``, ``weight``, ``calibration`` (a :class:`Calibration`) and the
    rest of the member's entry; a ValueError names the file and the field that is wrong.
    """
    path = folder / ENSEMBLE_FILE
    data = read_json_object(path, missing=f"{folder}: not an ensemble model folder ({ENSEMBLE_FILE} missing)")
    if not isinstance(data.get("members"), list) or not data["members"]:
        raise ValueError(f"{path}: 'members' must be a non-empty list")
    if data.get("labels") != list(taxonomy.ids):
        raise ValueError(f"{path}: 'labels' do not match taxonomy.json")
    out = []
    for i, entry in enumerate(data["members"]):
        where = f"{path}: members[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object")
        for key, tp in (("name", str), ("kind", str), ("weight", float | int)):
            if not isinstance(entry.get(key), tp) or isinstance(entry.get(key), bool):
                raise ValueError(f"{where}: {key!r} missing or not a {getattr(tp, '__name__', 'number')}")
        cal = Calibration.from_json(entry.get("calibration"), n_labels=len(taxonomy), where=where)
        out.append({**entry, "calibration": cal})
    return out
