"""Where the tests find the repository and the project's shared folder (``../shared``: taxonomy, seeds, exclusions)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ROOT", "SHARED"]

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
