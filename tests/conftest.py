from __future__ import annotations

from pathlib import Path

import pytest

from labels.taxonomy import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()
