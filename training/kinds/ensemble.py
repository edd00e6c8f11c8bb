"""The ``ensemble`` kind: the mean of its members' calibrated per-label probabilities.

The predictor and the calibrations are in :mod:`policytag.training.ensemble`. Members
(``ensemble_members``: TF-IDF and BERT by default) are trained on the ensemble's split by their own
kinds, each member's scores are calibrated on the validation documents, and the thresholds are
tuned on the averaged probabilities by the driver, as for any kind (``--thresholds``). The folder
holds each member in ``members/<name>/``, written by the member's kind's ``save`` and read by its
``load``, and ``ensemble.json`` (weights, calibrations: JSON numbers); nothing is pickled. Loading
options go to every member, the inference numerics only to the members they apply to (BERT).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.taxonomy import Taxonomy
from policytag.labels.dataset import Split
from policytag.training.config import TrainConfig, sub_config
from policytag.training.ensemble import (
    ENSEMBLE_FILE,
    MEMBERS_FOLDER,
    EnsemblePredictor,
    Member,
    fit_calibration,
    read_ensemble_file,
)
from policytag.training.kind_names import check_kind
from policytag.training.kinds import FitResult, ModelKind, get_kind, register
from policytag.training.model_folder import write_json
from policytag.training.predictor_base import Predictor

__all__ = ["EnsembleFit", "EnsembleKind", "MemberFit", "member_configs"]

log = logging.getLogger(__name__)

# Kinds whose predictors run in fp32 only: they get every loading option but the numerics.
_FP32_ONLY_KINDS = frozenset({"tfidf"})


@dataclass
class MemberFit:
    """A trained member: its folder name, the config it was trained with, and its kind's result."""

    name: str
    cfg: TrainConfig
    result: FitResult


@dataclass
class EnsembleFit(FitResult):
    """The ensemble's fit result: its predictor, and each member's result (``save`` writes them)."""

    members: list[MemberFit] = field(default_factory=list)


def member_configs(cfg: TrainConfig) -> list[tuple[str, TrainConfig]]:
    """``(name, config)`` of each member of ``cfg.ensemble_members``, names distinct.

    A kind name trains with the ensemble's own fields (the kind replaced); a YAML config trains as it
    says, but on the ensemble's data and split (:func:`policytag.training.config.sub_config`). Each
    member has its own checkpoint folder under the ensemble's.
    """
    out: list[tuple[str, TrainConfig]] = []
    for i, spec in enumerate(cfg.ensemble_members):
        is_file = spec.endswith((".yaml", ".yml"))
        name = Path(spec).stem if is_file else spec
        place: dict[str, Any] = {
            "output_dir": str(Path(cfg.output_dir) / MEMBERS_FOLDER / name),
            "checkpoint_dir": str(cfg.checkpoints / name),
            "name": f"{cfg.model_name}/{name}",
        }
        member = sub_config(cfg, spec, **place)
        if member.kind == "ensemble":
            raise ValueError(f"ensemble_members[{i}] ({spec}): an ensemble cannot be a member of an ensemble")
        if name in (n for n, _ in out):
            raise ValueError(f"ensemble_members: two members are named {name!r}; give distinct kinds or file names")
        out.append((name, member))
    return out


def _weights(cfg: TrainConfig) -> list[float]:
    n = len(cfg.ensemble_members)
    return list(cfg.ensemble_weights) if cfg.ensemble_weights else [1.0 / n] * n


def _base(fits: Sequence[MemberFit], predictor: EnsemblePredictor, calibration: str) -> dict[str, Any]:
    """The manifest's base_model: the members, their weights and bases."""
    parts = [f"{m.name} (weight {m.weight:.2f})" for m in predictor.members]
    return {
        "kind": "ensemble",
        "name": "ensemble of " + " + ".join(f.name for f in fits),
        "description": f"the weighted mean of {len(fits)} members' {calibration}-calibrated per-label probabilities: "
        + ", ".join(parts),
        "tried": [],
        "calibration": calibration,
        "members": [
            {"name": f.name, "kind": f.cfg.kind, "weight": m.weight, "base": f.result.base}
            for f, m in zip(fits, predictor.members, strict=True)
        ],
    }


@register
class EnsembleKind(ModelKind):
    name = "ensemble"

    def fit(self, cfg: TrainConfig, split: Split, taxonomy: Taxonomy, *, progress: bool) -> FitResult:
        if not split.validation:
            raise ValueError("the ensemble calibrates its members on the validation documents: it needs some")
        fits: list[MemberFit] = []
        for name, member_cfg in member_configs(cfg):
            log.info("ensemble member %s: training %s", name, member_cfg.kind)
            result = get_kind(member_cfg.kind).fit(member_cfg, split, taxonomy, progress=progress)
            fits.append(MemberFit(name, member_cfg, result))
        texts = [r["text"] for r in split.validation]
        targets = np.array([taxonomy.multi_hot(r["labels"]) for r in split.validation], dtype=int)
        members = []
        for f, weight in zip(fits, _weights(cfg), strict=True):
            probs, _ = f.result.predictor.predict_proba(texts)
            calibration = fit_calibration(np.asarray(probs), targets, method=cfg.ensemble_calibration)
            members.append(Member(f.name, f.cfg.kind, f.result.predictor, weight, calibration))
        predictor = EnsemblePredictor(
            taxonomy=taxonomy, thresholds=np.full(len(taxonomy), cfg.threshold_default), members=members
        )
        return EnsembleFit(
            predictor=predictor,
            base=_base(fits, predictor, cfg.ensemble_calibration),
            device=next((f.result.device for f in fits if f.result.device != "cpu"), "cpu"),
            mixed_precision=next(
                (f.result.mixed_precision for f in fits if f.result.mixed_precision != "fp32"), "fp32"
            ),
            members=fits,
        )

    def measure(
        self, cfg: TrainConfig, result: FitResult, records: Sequence[dict[str, Any]], *, model_version: str
    ) -> dict[str, Any]:
        """Each member's own measurements (the BERT guard), filed in its subfolder."""
        out: dict[str, Any] = {}
        for f in _ensemble(result).members:
            measured = get_kind(f.cfg.kind).measure(f.cfg, f.result, records, model_version=model_version)
            out.update({f"{MEMBERS_FOLDER}/{f.name}/{name}": content for name, content in measured.items()})
        return out

    def save(self, result: FitResult, folder: Path) -> None:
        ens = _ensemble(result)
        details = {}
        for f in ens.members:
            sub = folder / MEMBERS_FOLDER / f.name
            sub.mkdir(parents=True)
            get_kind(f.cfg.kind).save(f.result, sub)
            details[f.name] = {"max_length": f.cfg.max_length, "base_model": f.result.base}
        predictor = result.predictor
        assert isinstance(predictor, EnsemblePredictor)  # _ensemble checked it
        write_json(folder / ENSEMBLE_FILE, predictor.to_json(details=details))

    def load(
        self, folder: Path, *, taxonomy: Taxonomy, thresholds: np.ndarray, manifest: dict[str, Any], **options: Any
    ) -> EnsemblePredictor:
        members = []
        for i, entry in enumerate(read_ensemble_file(folder, taxonomy)):
            kind = check_kind(entry["kind"], where=f"{folder / ENSEMBLE_FILE}: members[{i}].kind")
            if kind == "ensemble":
                raise ValueError(f"{folder / ENSEMBLE_FILE}: members[{i}] is an ensemble; ensembles do not nest")
            predictor = _load_member(folder, entry, taxonomy=taxonomy, manifest=manifest, options=options)
            members.append(Member(entry["name"], kind, predictor, float(entry["weight"]), entry["calibration"]))
        return EnsemblePredictor(
            taxonomy=taxonomy,
            thresholds=thresholds,
            manifest=manifest,
            members=members,
            requested_numerics=str(options.get("numerics", "fp32")),
        )

    def card_base_lines(self, base: dict[str, Any]) -> list[str]:
        lines = []
        for m in base.get("members", []):
            lines.append(f"- Member `{m['name']}` ({m['kind']}, weight {m['weight']:.2f}): {m['base']['description']}")
            lines += ["  " + line for line in get_kind(m["kind"]).card_base_lines(m["base"])]
        return lines

    def card_usage_lines(self, measured: dict[str, Any]) -> list[str]:
        lines = [
            "",
            f"An ensemble: each member is a model folder of its own kind under `{MEMBERS_FOLDER}/<name>/`; "
            f"`{ENSEMBLE_FILE}` holds the weights and each member's per-label calibration (JSON numbers). "
            "The score of a label is the weighted mean of the members' calibrated probabilities; the thresholds "
            "apply to it. `--numerics` applies to the BERT members.",
        ]
        if measured:
            lines.append("Measured for the members: " + ", ".join(f"`{name}`" for name in sorted(measured)) + ".")
        return lines


def _ensemble(result: FitResult) -> EnsembleFit:
    if not isinstance(result, EnsembleFit) or not isinstance(result.predictor, EnsemblePredictor):
        raise TypeError(f"the ensemble kind works on an EnsembleFit, not {type(result).__name__}")
    return result


def _load_member(
    folder: Path, entry: dict[str, Any], *, taxonomy: Taxonomy, manifest: dict[str, Any], options: dict[str, Any]
) -> Predictor:
    """One member's predictor, loaded by its kind from its subfolder (numerics only where they apply)."""
    sub = folder / MEMBERS_FOLDER / entry["name"]
    if not sub.is_dir():
        raise FileNotFoundError(f"{folder / ENSEMBLE_FILE}: member {entry['name']!r} has no folder {sub}")
    member_manifest = {
        **manifest,
        "kind": entry["kind"],
        "name": f"{manifest.get('name', folder.name)}/{entry['name']}",
        "base_model": entry.get("base_model", {}),
        "max_length": int(entry.get("max_length", manifest.get("max_length", 128))),
    }
    member_options = dict(options)
    if entry["kind"] in _FP32_ONLY_KINDS:
        member_options.pop("numerics", None)
    # Member thresholds are never used: the ensemble thresholds the averaged probabilities.
    moot = np.full(len(taxonomy), 0.5)
    return get_kind(entry["kind"]).load(
        sub, taxonomy=taxonomy, thresholds=moot, manifest=member_manifest, **member_options
    )
