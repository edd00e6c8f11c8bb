"""The tagging page at ``/``: plain HTML, CSS and JavaScript served by the app itself (no CDN, no build step)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

#: The page's files, package data of ``policytag.serving``: found the same way in a checkout and a wheel.
STATIC_DIR = Path(str(files("policytag.serving") / "static"))

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The page; it calls /v1/documents and shows every sentence coloured by category."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")
