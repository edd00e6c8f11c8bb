"""The model folder's contract: its file names, reading its manifest, taxonomy and thresholds, writing it.

``policytag train`` writes a folder, ``load_predictor``, ``policytag serve`` and the benchmarks read
it; they all take the names and readers from here, so the contract is written down once. Each model
kind (:mod:`policytag.training.kinds`) adds its own files (weights, vocabulary, tokenizer) beside
these.

Folders are written atomically: built beside the target, then swapped in with renames. A crash at
any point leaves either the previous folder or the new complete one, never a half written folder
under the target name.

Example:
    >>> check_format({"format": FORMAT}, where="m/policytag.json")
    >>> check_format({"format": 2}, where="m/policytag.json")
    Traceback (most recent call last):
    ...
    ValueError: m/policytag.json: format 2 is not one this policytag reads (1); a newer policytag wrote it
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from policytag.core.jsonl import read_json_object
from policytag.core.taxonomy import Taxonomy
from policytag.training.kind_names import check_kind

__all__ = [
    "CARD",
    "DATA",
    "ERRORS",
    "FORMAT",
    "GUARD",
    "MANIFEST",
    "METRICS",
    "PLOTS",
    "PLOT_CONFUSED_PAIRS",
    "PLOT_COOCCURRENCE",
    "PLOT_F1",
    "PLOT_LEARNING_CURVE",
    "TAXONOMY",
    "THRESHOLDS",
    "TRAINING_CONFIG",
    "TRAINING_LOG",
    "atomic_folder",
    "check_format",
    "read_manifest",
    "read_taxonomy",
    "read_thresholds",
    "write_json",
]

#: The version of the contract below; a reader refuses a folder of a version it does not know.
FORMAT = 1

MANIFEST = "policytag.json"  # kind, name, version, base model, how it was trained
TAXONOMY = "taxonomy.json"  # the labels, in the model's output order
THRESHOLDS = "thresholds.json"  # one decision threshold per label, and how each was set
METRICS = "metrics.json"  # validation and test metrics
TRAINING_CONFIG = "training_config.json"  # the TrainConfig, field by field
DATA = "data.json"  # the training data: file, fingerprint, documents of each split
CARD = "README.md"  # the model card
TRAINING_LOG = "training_log.json"  # the trainer's log history (kinds trained by epochs)
GUARD = "precision_guard.json"  # the accuracy guard of the fast inference paths (BERT)
PLOTS = "plots"
PLOT_F1 = "f1_per_label.png"
PLOT_COOCCURRENCE = "label_cooccurrence.png"
PLOT_LEARNING_CURVE = "learning_curve.png"
# Error analysis of the out-of-fold predictions (thresholds "oof", or a kind's own search):
ERRORS = "errors.jsonl"  # the highest-loss training sentences: id, doc, text, labels, predicted, scores, loss
PLOT_CONFUSED_PAIRS = "confused_pairs.png"  # in plots/: false-positive label vs true label counts


def check_format(manifest: dict[str, Any], *, where: str | Path) -> None:
    """Refuse a manifest whose ``format`` this version cannot read (a newer kit wrote it, or it is damaged)."""
    fmt = manifest.get("format")
    if fmt != FORMAT:
        why = "a newer policytag wrote it" if isinstance(fmt, int) and fmt > FORMAT else "not a policytag manifest"
        raise ValueError(f"{where}: format {fmt!r} is not one this policytag reads ({FORMAT}); {why}")


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a model folder, its format and kind checked; the error names the file and what is wrong."""
    p = Path(folder)
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such model folder")
    path = p / MANIFEST
    data = read_json_object(path, missing=f"{p}: not a policytag model folder ({MANIFEST} missing)")
    check_format(data, where=path)
    check_kind(data.get("kind"), where=f"{path}: 'kind'")
    return data


def read_taxonomy(folder: Path) -> Taxonomy:
    """The taxonomy the model was trained with (its labels in output order)."""
    path = folder / TAXONOMY
    return Taxonomy.from_dict(json.loads(path.read_text(encoding="utf-8")), source=str(path))


def read_thresholds(folder: Path, taxonomy: Taxonomy) -> np.ndarray:
    """The per-label thresholds, in ``taxonomy`` order; every label must have one."""
    path = folder / THRESHOLDS
    per_label = json.loads(path.read_text(encoding="utf-8"))["thresholds"]
    missing = [i for i in taxonomy.ids if i not in per_label]
    if missing:
        raise ValueError(f"{path}: no threshold for {missing}")
    return np.array([float(per_label[i]) for i in taxonomy.ids])


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target``, on error it is removed."""
    dst = Path(target)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.tmp-", dir=dst.parent))
    try:
        yield tmp
        _swap_in(tmp, dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, dst: Path) -> None:
    """Rename ``tmp`` to ``dst``, moving a previous ``dst`` aside first and back if the rename fails."""
    old = None
    if dst.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent))
        old.rmdir()
        dst.rename(old)
    try:
        tmp.rename(dst)
    except BaseException:
        if old is not None:
            old.rename(dst)  # put the previous model back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    # Make the rename durable on POSIX filesystems.
    fd = os.open(dst.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: Any) -> None:
    """The folder's JSON style: UTF-8, Chinese kept readable, indented, one final newline."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
