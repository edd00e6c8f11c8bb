"""The repository-wide architecture checks, as tests: short functions and the layer contract.

``make lint`` runs the same two commands; here they fail a plain ``pytest`` too, naming what broke:
the functions over the limit (``scripts/check_function_length.py``) and the import-linter contracts
of ``pyproject.toml`` that no longer hold (``lint-imports``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT


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


def _modules() -> list[Path]:
    """Every module of the package (through the links to labels/, training/, serving/), package-relative."""
    found = []
    for folder, _, names in os.walk(ROOT / "policytag", followlinks=True):
        for name in names:
            path = Path(folder, name).relative_to(ROOT / "policytag")
            if name.endswith(".py") and "__pycache__" not in path.parts:
                found.append(path)
    return sorted(found)


def test_architecture_doc_names_every_module() -> None:
    # docs/architecture.md gives one line per module; a module added without its line fails here.
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/.]+\.py)`", doc))
    # A row may name a module by its path in its package (`kinds/tfidf.py`) or, in a list, by its file name.
    missing = [
        str(m)
        for m in _modules()
        if not (m.name == "__init__.py" and len(m.parts) > 2)
        and not any(str(m).endswith(n) or n == m.name for n in named)
    ]
    assert len(_modules()) > 80
    assert not missing, f"docs/architecture.md has no line for {missing}"
