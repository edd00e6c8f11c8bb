"""Where the kit's data lives: the one place that knows the data layout and how to find it.

The data (the taxonomy, the labelled sentences, the training configs, the seed documents) sits
under one *data root*, laid out as in the repository::

    labels/taxonomy.yaml  labels/sentences.jsonl  labels/gold.jsonl  labels/passes/
    training/configs/*.yaml
    seeds/*.txt  seeds/manifest.jsonl  seeds/unlabelled/pages.parquet

The root is, in this order: the folder named by ``POLICYTAG_DATA``; the repository when the kit runs
from a checkout; else the installed package, whose wheel carries the taxonomy, the labelled
sentences and the configs (not the seed documents: point ``POLICYTAG_DATA`` at a checkout or a copy
of its data for corpus work).

Relative *input* paths (``--data``, ``--config``, a config's ``data:``) are looked up in the working
folder first and then under the data root (:func:`find_input`), so ``--config
training/configs/bert.yaml`` works from any folder. Outputs (model folders) stay relative to the
working folder.

Example:
    >>> import os
    >>> root = data_root()
    >>> gold_file() == root / "labels" / "gold.jsonl"
    True
    >>> find_input("training/configs/default.yaml").is_file()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_ENV",
    "configs_dir",
    "data_root",
    "default_config",
    "find_input",
    "gold_file",
    "labels_dir",
    "passes_dir",
    "seeds_dir",
    "sentences_file",
    "taxonomy_file",
    "unlabelled_file",
]

DATA_ENV = "POLICYTAG_DATA"

# The package folder (site-packages/policytag once installed; policytag/ in a checkout).
_PACKAGE = Path(__file__).resolve().parents[1]


def _is_data_root(folder: Path) -> bool:
    return (folder / "labels" / "taxonomy.yaml").is_file()


def data_root() -> Path:
    """The folder that holds ``labels/``, ``training/configs/`` and ``seeds/`` (see the module doc)."""
    env = os.environ.get(DATA_ENV)
    if env:
        root = Path(env).expanduser()
        if not _is_data_root(root):
            raise FileNotFoundError(f"{DATA_ENV}={env}: not a policytag data folder (labels/taxonomy.yaml missing)")
        return root
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and _is_data_root(checkout):
        return checkout
    return _PACKAGE


def labels_dir() -> Path:
    return data_root() / "labels"


def taxonomy_file() -> Path:
    return labels_dir() / "taxonomy.yaml"


def sentences_file() -> Path:
    return labels_dir() / "sentences.jsonl"


def gold_file() -> Path:
    return labels_dir() / "gold.jsonl"


def passes_dir() -> Path:
    return labels_dir() / "passes"


def configs_dir() -> Path:
    return data_root() / "training" / "configs"


def default_config() -> Path:
    return configs_dir() / "default.yaml"


def seeds_dir() -> Path:
    return data_root() / "seeds"


def unlabelled_file() -> Path:
    return seeds_dir() / "unlabelled" / "pages.parquet"


def find_input(path: str | Path) -> Path:
    """An input path as given if it exists (or is absolute), else the same path under the data root.

    A path found in neither place is returned as given, so that the caller's error names it.
    """
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    under_root = data_root() / p
    return under_root if under_root.exists() else p
