"""``/``: the web map for browsers, the OGC API landing page for API clients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.deps import get_settings
from api.links import landing
from api.schemas import service
from api.templating import templates
from layers.db import vocabulary

router = APIRouter(tags=["service"])


def wants_html(request: Request, f: str | None) -> bool:
    """Content negotiation as OGC API servers do it: ``f=`` first, then ``Accept``."""
    if f is not None:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept


@router.get("/", response_model=service.Landing, responses={200: {"content": {"text/html": {}}}})
def root(request: Request, f: str | None = Query(None, pattern="^(json|html)$")) -> Any:
    """The map (browsers) or the OGC API landing page (``application/json``, ``?f=json``)."""
    if wants_html(request, f):
        settings = get_settings(request)
        config = {"basemap": settings.basemap, "tianditu_key": settings.tianditu_key}
        return templates.TemplateResponse(request, "map.html", {"config": config})
    return JSONResponse(landing(request))


@router.get("/api/vocabulary", response_model=service.Vocabulary)
def vocabulary_() -> dict[str, object]:
    """The platform's words: area levels, case statuses and sources (Chinese and English), roles."""
    return vocabulary.as_json()


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    """The API console (Swagger UI, vendored: works offline under the platform's CSP)."""
    return templates.TemplateResponse(request, "docs.html", {"kind": "swagger"})


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> Response:
    """The API reference (ReDoc, vendored)."""
    return templates.TemplateResponse(request, "docs.html", {"kind": "redoc"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    """Browsers ask for /favicon.ico whatever the page says; point them at the SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)
