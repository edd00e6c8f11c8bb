"""A local Label Studio server: installed into its own venv, started headless on 127.0.0.1.

Label Studio 1.23.2 pins ``label-studio-sdk`` and many Django packages exactly, so it lives in
``.venv-ls`` at the repository root, never in the kit's ``.venv``. A data dir migrated once by
``label-studio init -q`` is kept as a template (``.venv-ls/template-data``): a copy of it starts in
a few seconds instead of ~20 s of migrations.

Facts this module relies on (measured with 1.23.2):

- ``label-studio start`` also reads the plain ``HOST``/``PORT``/``USERNAME``/``PASSWORD``/``DEBUG``
  variables (and their ``LABEL_STUDIO_``/``HEARTEX_`` forms), so the child gets a cleaned environment;
- a busy port is silently replaced by port+1, so the server is polled on the exact port it was given
  and must answer ``/api/current-user/whoami`` *as our user* before it counts as started;
- the legacy API token given as ``LABEL_STUDIO_USER_TOKEN`` works only when
  ``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` at the first start (it is stored in the organisation);
- ``label-studio --version`` starts a server: it is never called.

Example:
    >>> with start_server(Path("labelstudio-data"), Credentials.generate()) as server:  # doctest: +SKIP
    ...     print(server.url)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = [
    "LS_VERSION",
    "ROOT",
    "Credentials",
    "LabelStudioServer",
    "ServerError",
    "create_user",
    "ensure_installed",
    "ensure_template",
    "free_port",
    "load_or_create_credentials",
    "prepare_data_dir",
    "start_server",
]

LS_VERSION = "1.23.2"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = ROOT / ".venv-ls"
DEFAULT_DATA_DIR = ROOT / "labelstudio-data"
CREDENTIALS_FILE = "policytag-credentials.json"
DB_FILE = "label_studio.sqlite3"
_STAMP = f".installed-label-studio-{LS_VERSION}"
# Variables Label Studio reads under a bare name too: never pass the caller's through.
_CLEANED = ("HOST", "PORT", "USERNAME", "PASSWORD", "DEBUG", "USER_TOKEN", "BASE_DATA_DIR", "DATABASE_NAME")


class ServerError(RuntimeError):
    """Label Studio could not be installed, prepared or started; the message says what to look at."""


@dataclass(frozen=True)
class Credentials:
    """The admin user of a local server: e-mail, password and legacy API token."""

    username: str
    password: str
    token: str

    @classmethod
    def generate(cls, username: str = "admin@policytag.local") -> Credentials:
        return cls(username=username, password=secrets.token_urlsafe(12), token=secrets.token_hex(20))


@contextlib.contextmanager
def _lock(venv: Path) -> Iterator[None]:
    """An exclusive file lock inside ``venv`` so that two processes never install or template at once."""
    venv.mkdir(parents=True, exist_ok=True)
    with (venv / ".policytag.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _executable(venv: Path) -> Path:
    return venv / "bin" / "label-studio"


def ensure_installed(venv: Path = DEFAULT_VENV, *, python: str = "python3", quiet: bool = False) -> Path:
    """Install Label Studio ``LS_VERSION`` into ``venv`` unless it is there already; return its executable.

    Takes about 40 s to 2 min and ~1 GB the first time. Raises ``ServerError`` with pip's last lines
    when the install fails (no network and no wheel cache, for example).
    """
    exe = _executable(venv)
    if (venv / _STAMP).exists() and exe.exists():
        return exe
    with _lock(venv):
        if (venv / _STAMP).exists() and exe.exists():
            return exe
        if not quiet:
            print(f"installing Label Studio {LS_VERSION} into {venv} (once; about a minute, ~1 GB)", file=sys.stderr)
        steps = [
            [python, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"label-studio=={LS_VERSION}"],
        ]
        for cmd in steps:
            if cmd[1:3] == ["-m", "venv"] and (venv / "bin" / "python").exists():
                continue
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise ServerError(f"installing Label Studio {LS_VERSION} failed: {' '.join(cmd)}\n{tail}")
        if not exe.exists():
            raise ServerError(f"{exe} is missing after installing label-studio=={LS_VERSION}")
        (venv / _STAMP).write_text(f"label-studio=={LS_VERSION}\n", encoding="utf-8")
    return exe


def _child_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Label Studio process: the caller's, cleaned of what Label Studio would misread."""
    env = dict(os.environ)
    for name in _CLEANED:
        for key in (name, f"LABEL_STUDIO_{name}", f"HEARTEX_{name}"):
            env.pop(key, None)
    env.pop("LABEL_STUDIO_API_KEY", None)
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def _run_ls(exe: Path, args: list[str], data_dir: Path, *, what: str, timeout: float = 300) -> None:
    try:
        proc = subprocess.run(
            [str(exe), *args, "--data-dir", str(data_dir)],
            env=_child_env(data_dir),
            cwd=data_dir.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ServerError(f"{what}: `label-studio {args[0]}` did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ServerError(f"{what}: `label-studio {args[0]}` failed (exit {proc.returncode})\n{tail}")


def ensure_template(venv: Path = DEFAULT_VENV) -> Path:
    """A migrated, user-less data dir made once with ``label-studio init -q`` (about 20-50 s); its path."""
    template = venv / "template-data"
    if (template / DB_FILE).exists():
        return template
    exe = ensure_installed(venv)
    with _lock(venv):
        if (template / DB_FILE).exists():
            return template
        building = venv / "template-data.partial"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        _run_ls(exe, ["init", "-q"], building, what="making the template data dir")
        # The secret key signs sessions and JWTs: every copy makes its own.
        (building / ".env").unlink(missing_ok=True)
        building.rename(template)
    return template


def prepare_data_dir(data_dir: Path, venv: Path = DEFAULT_VENV) -> Path:
    """Make ``data_dir`` a usable Label Studio data dir (a copy of the template) unless it is one already."""
    data_dir = data_dir.resolve()
    if (data_dir / DB_FILE).exists():
        return data_dir
    template = ensure_template(venv)
    data_dir.mkdir(parents=True, exist_ok=True)
    for item in template.iterdir():
        target = data_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
    return data_dir


def create_user(data_dir: Path, credentials: Credentials, venv: Path = DEFAULT_VENV) -> None:
    """Add a user with a password and a legacy token to the data dir's organisation (~5 s; server may run)."""
    _run_ls(
        ensure_installed(venv),
        [
            "init",
            "-q",
            "--username",
            credentials.username,
            "--password",
            credentials.password,
            "--user-token",
            credentials.token,
        ],
        data_dir,
        what=f"creating the user {credentials.username}",
        timeout=120,
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((host, port)) != 0


def _whoami(url: str, token: str, timeout: float = 2.0) -> str | None:
    """The e-mail of the token's user on ``url``, or ``None`` while it does not answer as Label Studio."""
    req = urllib.request.Request(f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return str(data.get("email")) if isinstance(data, dict) else None


@dataclass
class LabelStudioServer:
    """A running Label Studio process; ``stop()`` (or leaving the ``with`` block) sends SIGTERM."""

    url: str
    port: int
    data_dir: Path
    credentials: Credentials
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in_s: float = 0.0
    _log: object = field(default=None, repr=False)

    def __enter__(self) -> LabelStudioServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if hasattr(self._log, "close"):
            self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(
    data_dir: Path,
    credentials: Credentials,
    *,
    port: int | None = None,
    venv: Path = DEFAULT_VENV,
    timeout: float = 180.0,
    extra_env: Mapping[str, str] | None = None,
) -> LabelStudioServer:
    """Install if needed, prepare ``data_dir`` from the template, start on 127.0.0.1 and wait until it answers.

    ``port=None`` picks a free port. The server is ready when ``/api/current-user/whoami`` on that exact
    port answers with ``credentials.username`` for ``credentials.token``. Raises ``ServerError`` (with the
    tail of the server log) when the process exits or does not answer within ``timeout`` seconds.
    """
    exe = ensure_installed(venv)
    data_dir = prepare_data_dir(data_dir, venv)
    port = port or free_port()
    if not port_is_free(port):
        raise ServerError(f"port {port} on 127.0.0.1 is busy: choose another (--port) or leave it out")
    url = f"http://127.0.0.1:{port}"
    env = _child_env(data_dir, extra_env)
    env.update(
        {
            "LABEL_STUDIO_USERNAME": credentials.username,
            "LABEL_STUDIO_PASSWORD": credentials.password,
            "LABEL_STUDIO_USER_TOKEN": credentials.token,
        }
    )
    log_path = data_dir / "server.log"
    log = log_path.open("ab")
    cmd = [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir)]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, cwd=data_dir.parent, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    server = LabelStudioServer(url, port, data_dir, credentials, proc, log_path, _log=log)
    while True:
        if proc.poll() is not None:
            server.stop()
            raise ServerError(f"Label Studio exited with status {proc.returncode}; {log_path}:\n{server.log_tail()}")
        who = _whoami(url, credentials.token)
        if who == credentials.username:
            server.started_in_s = time.monotonic() - started
            return server
        if who is not None:
            server.stop()
            raise ServerError(f"{url} answers as {who!r}, not {credentials.username!r}: another server on the port?")
        if time.monotonic() - started > timeout:
            server.stop()
            raise ServerError(
                f"Label Studio did not answer on {url} within {timeout:.0f} s; {log_path}:\n{server.log_tail()}"
            )
        time.sleep(0.3)


def load_or_create_credentials(data_dir: Path) -> Credentials:
    """The admin credentials of a local data dir, generated once and kept (mode 0600) inside it."""
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(**{k: str(data[k]) for k in ("username", "password", "token")})
    creds = Credentials.generate()
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(creds), fh, indent=2)
    return creds


def main(argv: list[str] | None = None) -> int:
    """``python -m policytag.labels.labelstudio.server install``: install Label Studio, make the template."""
    parser = argparse.ArgumentParser(prog="python -m policytag.labels.labelstudio.server")
    parser.add_argument("action", choices=["install"])
    parser.add_argument("--venv", default=str(DEFAULT_VENV))
    args = parser.parse_args(argv)
    try:
        ensure_template(Path(args.venv))
    except ServerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"Label Studio {LS_VERSION} is installed in {args.venv} (template data dir ready)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
