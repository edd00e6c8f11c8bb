"""Talking to a Label Studio server through ``label-studio-sdk`` 2: connection, projects, tasks, exports.

Pitfalls handled here rather than in every caller:

- the SDK reads ``LABEL_STUDIO_API_KEY`` when it is imported; the key is always passed explicitly;
- the key never appears in a log line or an error message (``redact``);
- task lists are paged: every list goes through the SDK's pager to the last page (never "the first 100");
- Label Studio has no upsert and no external id: tasks are matched by ``data.sentence_id``;
- exports are snapshots (``exports.create`` + ``download``), so large projects do not time out a request,
  and the full JSON format keeps single choices as lists (``JSON_MIN`` flattens them).

Example:
    >>> ls = connect("http://127.0.0.1:8080", "TOKEN")  # doctest: +SKIP
    >>> project = find_project(ls, "policytag")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "LabelStudioError",
    "ProjectInfo",
    "connect",
    "export_snapshot",
    "find_project",
    "find_tasks_by_sentence",
    "list_tasks",
    "redact",
    "resolve_connection",
    "user_emails",
]

URL_ENV = "LABEL_STUDIO_URL"
KEY_ENV = "LABEL_STUDIO_API_KEY"
T = TypeVar("T")


class LabelStudioError(RuntimeError):
    """A Label Studio request that failed or answered something unusable; never carries the API key."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (the API key) replaced by ``***``."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text


def resolve_connection(url: str | None, api_key: str | None) -> tuple[str, str]:
    """``(url, key)`` from the arguments, else from ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``."""
    url = url or os.environ.get(URL_ENV)
    key = api_key or os.environ.get(KEY_ENV)
    missing = [name for name, value in ((f"--url or {URL_ENV}", url), (f"--api-key or {KEY_ENV}", key)) if not value]
    if missing:
        raise LabelStudioError(
            f"no Label Studio connection: set {' and '.join(missing)} "
            "(`policytag labels server` starts a local server and prints both)"
        )
    assert url is not None and key is not None
    return url.rstrip("/"), key


@contextmanager
def _translate(what: str, key: str | None) -> Iterator[None]:
    """Turn SDK and network errors into ``LabelStudioError`` saying what failed, with the key redacted."""
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as e:
        body = e.body if isinstance(e.body, str) else json.dumps(e.body, ensure_ascii=False, default=str)
        hint = " (is the API key right? a legacy token needs legacy tokens enabled)" if e.status_code == 401 else ""
        raise LabelStudioError(redact(f"{what}: HTTP {e.status_code}{hint}: {body[:500]}", key)) from None
    except OSError as e:  # connection refused, DNS, ...
        raise LabelStudioError(redact(f"{what}: {e}", key)) from None
    except Exception as e:
        import httpx

        if isinstance(e, httpx.HTTPError):
            raise LabelStudioError(redact(f"{what}: {type(e).__name__}: {e}", key)) from None
        raise


class Client:
    """A ``LabelStudio`` SDK client and its key (kept only to redact it from errors)."""

    def __init__(self, sdk: Any, url: str, key: str) -> None:
        self.sdk = sdk
        self.url = url
        self._key = key

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` with errors translated into ``LabelStudioError`` naming ``what``."""
        with _translate(what, self._key):
            return fn(*args, **kwargs)

    def iterate(self, what: str, pager: Callable[[], Any]) -> list[Any]:
        """Every item of an SDK pager, all pages (the pager fetches the next page until there is none)."""
        with _translate(what, self._key):
            return list(pager())

    def redact(self, text: str) -> str:
        return redact(text, self._key)


def connect(url: str | None = None, api_key: str | None = None, *, timeout: float = 120.0) -> Client:
    """Connect and check the key with ``whoami``; ``LabelStudioError`` says why it failed."""
    from label_studio_sdk import LabelStudio

    base_url, key = resolve_connection(url, api_key)
    client = Client(LabelStudio(base_url=base_url, api_key=key, timeout=timeout), base_url, key)
    client.call(f"connecting to Label Studio at {base_url}", client.sdk.users.whoami)
    return client


@dataclass(frozen=True)
class ProjectInfo:
    """A project's id, title and labelling config."""

    id: int
    title: str
    label_config: str


def find_project(client: Client, title: str) -> ProjectInfo | None:
    """The project titled exactly ``title`` (all pages searched), ``None`` if there is none.

    Raises ``LabelStudioError`` when several projects share the title: the kit cannot tell which is meant.
    """
    projects = client.iterate("listing projects", lambda: client.sdk.projects.list(title=title))
    same = [p for p in projects if p.title == title]
    if len(same) > 1:
        ids = ", ".join(str(p.id) for p in same)
        raise LabelStudioError(f"{len(same)} projects are titled {title!r} (ids {ids}): rename all but one")
    if not same:
        return None
    project = client.call(f"reading project {same[0].id}", client.sdk.projects.get, same[0].id)
    return ProjectInfo(id=int(project.id), title=str(project.title), label_config=str(project.label_config or ""))


def _dump(item: Any) -> dict[str, Any]:
    return item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item)


def list_tasks(client: Client, project_id: int, *, fields: str = "all", page_size: int = 100) -> list[dict[str, Any]]:
    """Every task of the project as plain dicts, following the pager to the last page.

    ``fields="all"`` includes annotations and predictions; ``"task_only"`` is lighter.
    """
    return [
        _dump(t)
        for t in client.iterate(
            f"listing the tasks of project {project_id}",
            lambda: client.sdk.tasks.list(project=project_id, fields=fields, page_size=page_size),
        )
    ]


def find_tasks_by_sentence(client: Client, project_id: int, sentence_id: str) -> list[dict[str, Any]]:
    """The tasks whose ``data.sentence_id`` equals ``sentence_id`` (a server-side filter; normally 0 or 1)."""
    query = {
        "filters": {
            "conjunction": "and",
            "items": [
                {"filter": "filter:tasks:data.sentence_id", "operator": "equal", "type": "String", "value": sentence_id}
            ],
        }
    }
    found = client.iterate(
        f"looking up sentence {sentence_id} in project {project_id}",
        lambda: client.sdk.tasks.list(project=project_id, query=json.dumps(query), fields="task_only"),
    )
    # The filter is the server's: keep only exact matches in case a version treats "equal" loosely.
    return [d for d in (_dump(t) for t in found) if (d.get("data") or {}).get("sentence_id") == sentence_id]


def user_emails(client: Client) -> dict[int, str]:
    """User id → e-mail of every user the key can see (to name annotators exported by id)."""
    users = client.iterate("listing users", client.sdk.users.list)
    return {int(u.id): str(u.email) for u in users}


def export_snapshot(client: Client, project_id: int, *, timeout: float = 600.0) -> list[dict[str, Any]]:
    """All tasks with all annotations (skipped ones included) as the full JSON export of a new snapshot.

    The snapshot is made by the server (synchronously in the Community edition, in the background
    elsewhere: it is polled until ``completed``), downloaded, and deleted afterwards.
    """
    sdk = client.sdk
    snapshot = client.call(
        f"creating an export snapshot of project {project_id}",
        sdk.projects.exports.create,
        project_id,
        title="policytag pull",
        serialization_options={"annotations__completed_by": {"only_id": False}},
        annotation_filter_options={"usual": True, "skipped": True, "ground_truth": True},
    )
    started = time.monotonic()
    while snapshot.status != "completed":
        if snapshot.status == "failed":
            raise LabelStudioError(f"the export snapshot {snapshot.id} of project {project_id} failed on the server")
        if time.monotonic() - started > timeout:
            raise LabelStudioError(
                f"the export snapshot {snapshot.id} of project {project_id} was not ready after {timeout:.0f} s "
                f"(status {snapshot.status!r})"
            )
        time.sleep(1.0)
        snapshot = client.call(
            "polling the export snapshot", sdk.projects.exports.get, project_id, export_pk=snapshot.id
        )
    raw = client.call(
        "downloading the export snapshot",
        lambda: b"".join(sdk.projects.exports.download(project_id, snapshot.id, export_type="JSON")),
    )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise LabelStudioError(f"the export snapshot of project {project_id} is not JSON ({e.msg})") from None
    if not isinstance(data, list):
        raise LabelStudioError(f"the export snapshot of project {project_id} is not a list of tasks")
    with contextlib.suppress(LabelStudioError):  # a left-over snapshot file is harmless
        client.call("deleting the export snapshot", sdk.projects.exports.delete, project_id, export_pk=snapshot.id)
    return data
