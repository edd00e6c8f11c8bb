"""Install Label Studio into its own venv and make its template data dir (``make labelstudio-install``).

Label Studio pins its SDK and many Django packages exactly, so it gets a venv of its own: by default
``.venv-ls`` in this checkout, or the folder named by ``POLICYTAG_LABEL_STUDIO_VENV``
(:func:`policytag.core.paths.label_studio_venv`). The version, the install marker and the lock are
the server module's (:mod:`policytag.labels.labelstudio.server`), which starts what this installs.
A second run finds the marker and only checks the template. About 40 s to 2 min and ~1 GB the
first time.

Usage:
    python scripts/install_labelstudio.py [--venv DIR] [--python python3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from policytag.core.paths import label_studio_venv
from policytag.labels.labelstudio.server import (
    LS_VERSION,
    ServerError,
    ensure_template,
    install_lock,
    installed_marker,
    label_studio_executable,
)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ServerError(f"installing Label Studio {LS_VERSION} failed: {' '.join(cmd)}\n{tail}")


def ensure_installed(venv: Path, *, python: str = "python3") -> Path:
    """Install Label Studio ``LS_VERSION`` into ``venv`` unless it is there already; return its executable.

    Raises ``ServerError`` with pip's last lines when the install fails (no network and no wheel
    cache, for example). The marker is written last, under the lock, so that a half-finished or
    concurrent install never counts as one.
    """
    try:
        return label_studio_executable(venv)
    except ServerError:
        pass
    with install_lock(venv):
        try:
            return label_studio_executable(venv)
        except ServerError:
            pass
        print(f"installing Label Studio {LS_VERSION} into {venv} (once; about a minute, ~1 GB)", file=sys.stderr)
        if not (venv / "bin" / "python").exists():
            _run([python, "-m", "venv", str(venv)])
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"label-studio=={LS_VERSION}"])
        if not (venv / "bin" / "label-studio").exists():
            raise ServerError(f"{venv / 'bin' / 'label-studio'} is missing after installing label-studio=={LS_VERSION}")
        installed_marker(venv).write_text(f"label-studio=={LS_VERSION}\n", encoding="utf-8")
    return label_studio_executable(venv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install Label Studio and make its template data dir.")
    parser.add_argument("--venv", type=Path, default=label_studio_venv(), help="the venv (default: %(default)s)")
    parser.add_argument("--python", default="python3", help="the Python that makes the venv (default: %(default)s)")
    args = parser.parse_args(argv)
    venv: Path = args.venv
    try:
        ensure_installed(venv, python=args.python)
        ensure_template(venv)
    except ServerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"Label Studio {LS_VERSION} is installed in {venv} (template data dir ready)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
