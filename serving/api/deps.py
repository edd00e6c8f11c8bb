"""Dependencies shared by the routes: the app state, the API-key checks, the ready model.

**API key.** With ``POLICYTAG_API_KEY`` set, the ``/v1`` routes need it as ``Authorization: Bearer KEY`` or
``X-API-Key: KEY``. The Label Studio backend routes (setup, predict, webhook) also take it as Label Studio
can send it: Label Studio 1.23 sends no ``Authorization`` header of its own to an ML backend; its connector
(``label_studio/ml/api_connector.py``) only adds HTTP Basic auth when the backend is registered with
``auth_method="BASIC_AUTH"``, and its webhooks send the headers stored with the webhook. So those routes also
accept ``Authorization: Token KEY`` and HTTP Basic auth with the key as the password (any user name);
``policytag labels connect --backend-key`` registers it both ways. One check (:class:`ApiKeyCheck`) serves
both, configured by the schemes it accepts and the challenge it answers.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from policytag.serving.core.state import AppState, Ready

__all__ = ["ApiKeyCheck", "ReadyState", "get_state", "offered_keys", "require_api_key", "require_backend_key"]

# Documents the Bearer scheme in OpenAPI (the docs page's "Authorize"); the key itself is read by offered_keys.
_bearer = HTTPBearer(auto_error=False, description="the server's API key, when POLICYTAG_API_KEY is set")

#: The ``Authorization`` schemes a key may come in; ``X-API-Key`` is always read.
SCHEMES = frozenset({"bearer", "token", "basic"})


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.policytag
    return state


def _basic_password(value: str) -> str:
    """The password of HTTP Basic credentials ("" when malformed or without one)."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    _, colon, password = decoded.partition(":")
    return password if colon else ""


def offered_keys(request: Request, schemes: frozenset[str]) -> Iterator[str]:
    """Every non-empty key the request offers: the ``Authorization`` header in one of ``schemes``, ``X-API-Key``.

    Example (a request with ``Authorization: Token k1`` and ``X-API-Key: k2``):
        >>> from starlette.requests import Request
        >>> request = Request({"type": "http", "headers": [(b"authorization", b"Token k1"), (b"x-api-key", b"k2")]})
        >>> list(offered_keys(request, frozenset({"bearer", "token"}))), list(offered_keys(request, frozenset()))
        (['k1', 'k2'], ['k2'])
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if value and scheme in schemes:
        key = _basic_password(value) if scheme == "basic" else value
        if key:
            yield key
    api_key = request.headers.get("x-api-key", "")
    if api_key:
        yield api_key


class ApiKeyCheck:
    """A dependency answering 401 (with ``challenge`` as ``WWW-Authenticate``) unless the request offers the key.

    Open when no key is configured. Each offered key is compared in constant time: the key is a secret. With
    ``first_only`` only the first key offered counts (the ``Authorization`` header before ``X-API-Key``).
    """

    def __init__(self, *, schemes: frozenset[str], challenge: str, message: str, first_only: bool = False) -> None:
        unknown = schemes - SCHEMES
        if unknown:
            raise ValueError(f"unknown Authorization schemes {sorted(unknown)}; known: {sorted(SCHEMES)}")
        if not challenge.strip() or not message.strip():
            raise ValueError("an API-key check needs a WWW-Authenticate challenge and a message")
        self.schemes, self.challenge, self.message, self.first_only = schemes, challenge, message, first_only

    def __call__(
        self, request: Request, _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> None:
        key = get_state(request).settings.api_key
        if key is None:
            return
        expected = key.get_secret_value().encode()
        offered = offered_keys(request, self.schemes)
        if self.first_only:
            offered = itertools.islice(offered, 1)
        if any(secrets.compare_digest(given.encode(), expected) for given in offered):
            return
        raise HTTPException(status_code=401, detail=self.message, headers={"WWW-Authenticate": self.challenge})


#: The ``/v1`` routes' check: a Bearer key, else ``X-API-Key`` (a wrong Bearer key is not rescued by the header).
require_api_key = ApiKeyCheck(
    schemes=frozenset({"bearer"}),
    challenge="Bearer",
    message="missing or wrong API key (send `Authorization: Bearer KEY`)",
    first_only=True,
)
#: The Label Studio backend routes' check: the same key, also as Label Studio can send it (see above).
require_backend_key = ApiKeyCheck(
    schemes=SCHEMES,
    challenge='Basic realm="policytag", Bearer',
    message="missing or wrong API key (send `Authorization: Bearer KEY`, or Basic auth with the key as password)",
)


def ready_state(request: Request) -> Ready:
    """The loaded model and what serves it; 503 while loading and once shutting down."""
    ready = get_state(request).ready
    if ready is None:
        raise HTTPException(status_code=503, detail="the model is not loaded yet or the server is shutting down")
    return ready


ReadyState = Annotated[Ready, Depends(ready_state)]
