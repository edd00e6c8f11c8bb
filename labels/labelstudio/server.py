"""A local Label Studio server, started headless on 127.0.0.1 from its own venv, and stopped.

Label Studio 1.23.2 pins ``label-studio-sdk`` and many Django packages exactly, so it lives in its
own venv (:func:`policytag.core.paths.label_studio_venv`: ``.venv-ls`` in the checkout unless
``POLICYTAG_LABEL_STUDIO_VENV`` names another), never in the kit's ``.venv``. Installing it there is
the tooling's job (``scripts/install_labelstudio.py``, run by ``make labelstudio-install``); this
module only checks the install (:func:`label_studio_executable`). A data dir migrated once by
``label-studio init -q`` is kept as a template (``<venv>/template-data``): a copy of it starts in
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

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType

from policytag.core.paths import label_studio_venv

# Starting a server; then what the installer (scripts/install_labelstudio.py) shares with this module.
__all__ = ["LS_VERSION", "Credentials", "LabelStudioServer", "ServerError", "create_user", "free_port", "start_server"]
__all__ += ["load_or_create_credentials", "port_is_free", "prepare_data_dir"]
__all__ += ["ensure_template", "install_lock", "installed_marker", "label_studio_executable"]

LS_VERSION = "1.23.2"
CREDENTIALS_FILE = "policytag-credentials.json"
DB_FILE = "label_studio.sqlite3"
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
def install_lock(venv: Path) -> Iterator[None]:
    """An exclusive file lock inside ``venv`` so that two processes never install or template at once."""
    venv.mkdir(parents=True, exist_ok=True)
    with (venv / ".policytag.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def installed_marker(venv: Path) -> Path:
    """The file the installer writes last, so that a half-finished install never counts as one."""
    return venv / f".installed-label-studio-{LS_VERSION}"


def label_studio_executable(venv: Path | None = None) -> Path:
    """The ``label-studio`` executable of a finished install in ``venv`` (default: the kit's Label Studio venv).

    Raises ``ServerError`` naming the install command when Label Studio ``LS_VERSION`` is not there.
    """
    venv = venv or label_studio_venv()
    exe = venv / "bin" / "label-studio"
    if not (installed_marker(venv).exists() and exe.exists()):
        raise ServerError(
            f"Label Studio {LS_VERSION} is not installed in {venv}: run `make labelstudio-install` "
            "(python scripts/install_labelstudio.py) in the policytag checkout"
        )
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


def ensure_template(venv: Path | None = None) -> Path:
    """A migrated, user-less data dir made once with ``label-studio init -q`` (about 20-50 s); its path."""
    venv = venv or label_studio_venv()
    template = venv / "template-data"
    if (template / DB_FILE).exists():
        return template
    exe = label_studio_executable(venv)
    with install_lock(venv):
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


def prepare_data_dir(data_dir: Path, venv: Path | None = None) -> Path:
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


def create_user(data_dir: Path, credentials: Credentials, venv: Path | None = None) -> None:
    """Add a user with a password and a legacy token to the data dir's organisation (~5 s; server may run)."""
    _run_ls(
        label_studio_executable(venv),
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
    venv: Path | None = None,
    timeout: float = 180.0,
    extra_env: Mapping[str, str] | None = None,
) -> LabelStudioServer:
    """Prepare ``data_dir`` from the template, start on 127.0.0.1 and wait until it answers.

    ``port=None`` picks a free port. The server is ready when ``/api/current-user/whoami`` on that exact
    port answers with ``credentials.username`` for ``credentials.token``. Raises ``ServerError`` (with the
    tail of the server log) when the process exits or does not answer within ``timeout`` seconds.
    """
    exe = label_studio_executable(venv)
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
