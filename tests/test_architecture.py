"""The repository-wide architecture checks, as tests: short functions and the layer contract.

``make lint`` runs the same two commands; here they fail a plain ``pytest`` too, naming what broke:
the functions over the limit (``scripts/check_function_length.py``) and the import-linter contracts
of ``pyproject.toml`` that no longer hold (``lint-imports``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str | Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_no_function_outside_tests_is_over_60_lines() -> None:
    proc = _run(sys.executable, ROOT / "scripts" / "check_function_length.py", timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"functions over the limit (split them):\n{proc.stdout}{proc.stderr}", pytrace=False)


def _lint_imports() -> Path:
    """The ``lint-imports`` of this interpreter's venv (or on PATH); skips the test when there is none."""
    beside = Path(sys.executable).parent / "lint-imports"
    if beside.is_file():
        return beside
    found = shutil.which("lint-imports")
    if found is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]' provides lint-imports)")
    return Path(found)


def test_import_contracts_hold() -> None:
    # --no-cache: a test run leaves no .import_linter_cache folder behind.
    proc = _run(_lint_imports(), "--no-cache", timeout=300)
    if proc.returncode != 0:
        # The report ends with each broken contract and the import chains that break it.
        pytest.fail(f"import-linter contracts broken:\n{proc.stdout[-6000:]}{proc.stderr}", pytrace=False)
