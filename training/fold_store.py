"""Finished cross-validation folds kept on disk, so that a long comparison resumes where it stopped.

A BERT candidate takes tens of minutes a fold on a CPU; a comparison killed at its fourth fold should
not train the first three again. :func:`policytag.training.cv.run_folds` saves each finished fold
here (one JSON file, written atomically) and, when asked to resume, takes a saved fold instead of
training it again, but only one whose key matches: the key hashes everything that decides a fold's
figures (the config's values except where it writes, the labelled records, the fold's test
documents and duplicates left out, the validation seed, the pretraining config, the kit's version).
A fold of another config, other data or another fold plan is never reused. Code changed within one
version is not seen by the key: start afresh (``policytag compare --fresh``) after changing it.

    >>> import tempfile
    >>> run = FoldRun({"fold": 1, "macro_f1": 0.5}, ["d1"], [["other"]], [["other"]], 2.0)
    >>> folder = tempfile.mkdtemp()
    >>> save_fold(folder, "abc", run)
    >>> load_fold(folder, "abc") == run, load_fold(folder, "abd")
    (True, None)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policytag.core.jsonl import atomic_write_text
from policytag.core.version import __version__

__all__ = ["FoldRun", "fold_key", "load_fold", "records_sha256", "save_fold"]

log = logging.getLogger(__name__)

# Fields of TrainConfig that say where to write, not what to train: they do not change a fold's figures.
_WHERE = frozenset({"output_dir", "checkpoint_dir", "resume", "keep_checkpoints", "name"})


@dataclass
class FoldRun:
    """One trained and scored fold: its JSON record and, per test sentence, its document, truth and prediction."""

    record: dict[str, Any]
    docs: list[str]
    truth: list[list[str]]
    predicted: list[list[str]]
    seconds: float


def fold_key(
    cfg: Any,
    *,
    records_sha256: str,
    test_docs: Sequence[str],
    left_out: Iterable[int],
    split_seed: int,
    pretrain: Any = None,
) -> str:
    """The hex digest naming one fold's result: equal keys, equal figures (for one version of the code)."""
    material = {
        "config": _what(cfg),
        "records_sha256": records_sha256,
        "test_docs": sorted(test_docs),
        "left_out": sorted(left_out),
        "split_seed": split_seed,
        "pretrain": None if pretrain is None else _what(pretrain),
        "version": __version__,
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def _what(cfg: Any) -> dict[str, Any]:
    """A config's values that decide what is trained (not where it is written)."""
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k not in _WHERE}


def records_sha256(records: Iterable[dict[str, Any]]) -> str:
    """A digest of labelled records (their text, labels and document, in order): the data a fold plan splits."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps([r["text"], sorted(r["labels"]), r["doc"]], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _path(folder: str | Path, key: str) -> Path:
    return Path(folder) / f"fold-{key}.json"


def save_fold(folder: str | Path, key: str, run: FoldRun) -> None:
    """Write ``run`` under ``key`` in ``folder`` (atomically: a crash leaves no half file)."""
    atomic_write_text(_path(folder, key), json.dumps({"key": key, **dataclasses.asdict(run)}, ensure_ascii=False))


def load_fold(folder: str | Path, key: str) -> FoldRun | None:
    """The fold saved under ``key`` in ``folder``, or None when there is none or it does not read as one."""
    path = _path(folder, key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run = FoldRun(
            record=dict(data["record"]),
            docs=list(data["docs"]),
            truth=[list(t) for t in data["truth"]],
            predicted=[list(p) for p in data["predicted"]],
            seconds=float(data["seconds"]),
        )
    except (ValueError, KeyError, TypeError) as e:
        log.warning("%s: not a saved fold (%s); training the fold again", path, e)
        return None
    if data.get("key") != key or not len(run.docs) == len(run.truth) == len(run.predicted):
        log.warning("%s: does not match its key or its lengths disagree; training the fold again", path)
        return None
    return run
