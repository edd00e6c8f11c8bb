"""The tagging page at ``/``: plain HTML, CSS and JavaScript served by the app itself (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The page; it calls /v1/documents and shows every sentence coloured by category."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")
