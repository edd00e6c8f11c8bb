"""Dependencies shared by the routes: the app state, the API key check, a ready predictor."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from policytag.serving.core.state import AppState

__all__ = ["ReadyState", "get_state", "require_api_key"]

_bearer = HTTPBearer(auto_error=False, description="the server's API key, when POLICYTAG_API_KEY is set")


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.policytag
    return state


def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    key = get_state(request).settings.api_key
    if key is None:
        return
    given = credentials.credentials if credentials else request.headers.get("x-api-key", "")
    # Constant-time comparison: the key is a secret.
    if not given or not secrets.compare_digest(given.encode(), key.get_secret_value().encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key (send `Authorization: Bearer KEY`)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def ready_state(request: Request) -> AppState:
    state = get_state(request)
    if not state.ready or state.batcher is None or state.predictor is None:
        raise HTTPException(status_code=503, detail="the model is not loaded yet or the server is shutting down")
    return state


ReadyState = Annotated[AppState, Depends(ready_state)]
