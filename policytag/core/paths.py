"""Where the kit's data lives: the one place that knows the data layout and how to find it.

The data (the taxonomy, the labelled sentences, the training configs, the seed documents) sits
under one *data root*, laid out as :data:`LAYOUT` says (the repository's own layout)::

    labels/taxonomy.yaml  labels/sentences.jsonl  labels/gold.jsonl  labels/passes/
    training/configs/*.yaml
    seeds/*.txt  seeds/manifest.jsonl  seeds/unlabelled/pages.parquet

The root is, in this order: the folder named by ``POLICYTAG_DATA``; the repository when the kit runs
from a checkout; else the installed package, whose wheel carries the taxonomy, the labelled
sentences and the configs (not the seed documents: point ``POLICYTAG_DATA`` at a checkout or a copy
of its data for corpus work).

Relative *input* paths (``--data``, ``--config``, a config's ``data:``) are looked up in the working
folder first and then under the data root (:func:`find_input`), so ``--config
training/configs/bert.yaml`` works from any folder. Outputs (model folders, the CLI's default
output files, which are :data:`LAYOUT`'s relative paths) stay relative to the working folder.

Label Studio, a tool of the labelling loop rather than data, lives in its own venv
(:func:`label_studio_venv`) with its data in :data:`LABEL_STUDIO_DATA`.

Example:
    >>> root = data_root()
    >>> data_path("gold") == root / "labels" / "gold.jsonl"
    True
    >>> find_input(LAYOUT["default_config"]).is_file()
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "DATA_ENV",
    "LABEL_STUDIO_DATA",
    "LABEL_STUDIO_VENV_ENV",
    "LAYOUT",
    "SEEDS_LAYOUT",
    "data_path",
    "data_root",
    "find_input",
    "label_studio_venv",
]

DATA_ENV = "POLICYTAG_DATA"
LABEL_STUDIO_VENV_ENV = "POLICYTAG_LABEL_STUDIO_VENV"
#: A local Label Studio's data folder (``policytag labels server --data-dir``), relative to the working folder.
LABEL_STUDIO_DATA = "labelstudio-data"

SeedsName = Literal["manifest", "excluded_csv", "fingerprints", "unlabelled", "ingest_report"]
DataName = Literal[
    "taxonomy",
    "sentences",
    "gold",
    "passes",
    "labels_readme",
    "annotations",
    "consolidated",
    "conflicts",
    "configs",
    "default_config",
    "seeds",
    "manifest",
    "unlabelled",
]

#: A seeds folder's files, relative to the folder (``--seeds`` may name another one).
SEEDS_LAYOUT: Final[Mapping[SeedsName, str]] = {
    "manifest": "manifest.jsonl",
    "excluded_csv": "excluded_sources.csv",
    "fingerprints": "excluded_fingerprints.json",
    "unlabelled": "unlabelled/pages.parquet",
    "ingest_report": "unlabelled/ingest_report.json",
}

_SEEDS = "seeds"
#: Every named file or folder of the data root, relative to it (POSIX spelling, as the CLI's help shows it).
LAYOUT: Final[Mapping[DataName, str]] = {
    "taxonomy": "labels/taxonomy.yaml",
    "sentences": "labels/sentences.jsonl",
    "gold": "labels/gold.jsonl",
    "passes": "labels/passes",
    "labels_readme": "labels/README.md",
    # The Label Studio loop's files (labels/README.md, "Label Studio loop").
    "annotations": "labels/annotations.jsonl",
    "consolidated": "labels/consolidated.jsonl",
    "conflicts": "labels/conflicts.jsonl",
    "configs": "training/configs",
    "default_config": "training/configs/default.yaml",
    "seeds": _SEEDS,
    "manifest": f"{_SEEDS}/{SEEDS_LAYOUT['manifest']}",
    "unlabelled": f"{_SEEDS}/{SEEDS_LAYOUT['unlabelled']}",
}

# The package folder (site-packages/policytag once installed; policytag/ in a checkout).
_PACKAGE = Path(__file__).resolve().parents[1]


def _is_data_root(folder: Path) -> bool:
    return (folder / LAYOUT["taxonomy"]).is_file()


def _checkout() -> Path | None:
    """The repository the kit runs from, or ``None`` for an installed kit."""
    folder = _PACKAGE.parent
    return folder if (folder / "pyproject.toml").is_file() and _is_data_root(folder) else None


def data_root() -> Path:
    """The folder that holds ``labels/``, ``training/configs/`` and ``seeds/`` (see the module doc)."""
    env = os.environ.get(DATA_ENV)
    if env:
        root = Path(env).expanduser()
        if not _is_data_root(root):
            raise FileNotFoundError(f"{DATA_ENV}={env}: not a policytag data folder ({LAYOUT['taxonomy']} missing)")
        return root
    return _checkout() or _PACKAGE


def data_path(name: DataName) -> Path:
    """The named file or folder of :data:`LAYOUT` under the data root, e.g. ``data_path("gold")``."""
    return data_root() / LAYOUT[name]


def label_studio_venv() -> Path:
    """Label Studio's own venv: ``$POLICYTAG_LABEL_STUDIO_VENV``, else ``.venv-ls`` in the checkout.

    Label Studio pins its SDK and many Django packages exactly, so it never shares the kit's venv. An
    installed kit has no checkout: its default is ``.venv-ls`` in the working folder.
    """
    env = os.environ.get(LABEL_STUDIO_VENV_ENV)
    if env:
        return Path(env).expanduser()
    return (_checkout() or Path.cwd()) / ".venv-ls"


def find_input(path: str | Path) -> Path:
    """An input path as given if it exists (or is absolute), else the same path under the data root.

    A path found in neither place is returned as given, so that the caller's error names it.
    """
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    under_root = data_root() / p
    return under_root if under_root.exists() else p
