"""One predictor interface for every model kind: ``load_predictor(folder).predict(sentences)``.

Used by ``policytag evaluate``, ``policytag predict``, cross-validation and the server. Loading
never executes code from the folder: weights are safetensors, everything else JSON, and
``trust_remote_code`` is never set. The folder's manifest names its kind; the kind's loader
(:mod:`policytag.training.kinds`) builds the predictor, so this module knows no kind.

Example:
    >>> predictor = load_predictor("models/demo")  # doctest: +SKIP
    >>> [p.labels for p in predictor.predict(["深入开展法律援助工作。"])]  # doctest: +SKIP
    [['legal_aid']]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policytag.training.kinds import get_kind
from policytag.training.model_folder import read_manifest, read_taxonomy, read_thresholds
from policytag.training.predictor_base import Prediction, Predictor

__all__ = ["Prediction", "Predictor", "load_predictor"]


def load_predictor(folder: str | Path, **options: Any) -> Predictor:
    """Load the predictor of a model folder written by ``policytag train`` (any kind).

    ``options`` go to the kind's loader: BERT folders take ``device``, ``batch_size``, ``token_budget``
    and the inference numerics; a TF-IDF folder accepts the same names, and only fp32 (or auto) numerics.
    """
    p = Path(folder)
    manifest = read_manifest(p)
    taxonomy = read_taxonomy(p)
    thresholds = read_thresholds(p, taxonomy)
    return get_kind(manifest["kind"]).load(p, taxonomy=taxonomy, thresholds=thresholds, manifest=manifest, **options)
