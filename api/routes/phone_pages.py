"""The phone pages: a resident's report ``/report`` (随手拍) and its tracking ``/track/{number}``,
the field worker's task list ``/m`` and task page ``/m/tasks/{number}``, and the service
worker ``/sw.js`` that keeps them (and the asset pages ``/a/{id}``) working offline.

Each page carries what its first paint needs (the resident's plain-language categories, the
session of a signed-in worker); the rest comes from the API. The task pages are never
cached by the browser's HTTP cache (they carry the session), only by the service worker,
which the worker's sign-out clears.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse

from api.auth import SESSION_COOKIE
from api.deps import get_settings, run_read
from api.templating import templates
from geo.errors import NotFound, Unauthorized
from layers.accounts import sessions
from layers.cases import categories, numbers, queries
from layers.db import vocabulary
from web import WEB_DIR

router = APIRouter(tags=["pages"])
NO_STORE = {"Cache-Control": "no-store"}
Number = Annotated[str, Path(pattern=numbers.PATTERN, description="A case number.")]


@cache
def _resident_choices() -> list[dict[str, str]]:
    with resources.files("layers.reference").joinpath("resident_categories.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _config(conn: Any, cookie: str | None, idle_h: float, max_h: float) -> dict[str, Any]:
    session = None
    if cookie:
        try:
            session = sessions.current(conn, cookie, idle_h, max_h).as_json()
        except Unauthorized:
            session = None
    active = {c.code for c in categories.load(conn).categories.values() if c.active}
    return {
        "vocabulary": vocabulary.as_json(),
        "session": session,
        "choices": [c for c in _resident_choices() if c["code"] in active],
    }


async def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    s = get_settings(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    config = await run_read(request, _config, cookie, s.session_hours, s.session_max_hours)
    config.update(basemap=s.basemap, tianditu_key=s.tianditu_key, **context)
    return templates.TemplateResponse(
        request, template, {"config": jsonable_encoder(config), **context}, headers=NO_STORE
    )


@router.get("/report", response_class=HTMLResponse)
async def report_page(request: Request) -> HTMLResponse:
    """随手拍: a resident reports with a spot on the map, a kind, photos and a few words; no account."""
    return await _page(request, "resident_report.html")


@router.get("/track/{number}", response_class=HTMLResponse)
async def track_page(request: Request, number: Number) -> HTMLResponse:
    """A case as its reporter follows it, in plain words; the satisfaction visit when it is closed."""
    return await _page(request, "track.html", number=number)


@router.get("/m", response_class=HTMLResponse)
async def tasks_page(request: Request) -> HTMLResponse:
    """The field worker's phone: my tasks, overdue first, then nearest."""
    return await _page(request, "tasks.html")


@router.get("/m/tasks/{number}", response_class=HTMLResponse)
async def task_page(request: Request, number: Number) -> HTMLResponse:
    """One task: the map, the way there, 开始处置, 处置完成 with photos, 核查."""

    def case_id(conn: Any) -> int | None:
        try:
            return queries.id_of(conn, number)
        except NotFound:
            return None

    return await _page(request, "task.html", number=number, case_id=await run_read(request, case_id))


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    """The service worker, from the site's root so it may serve every phone page."""
    return FileResponse(
        WEB_DIR / "static" / "js" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
