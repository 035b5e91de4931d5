"""The dispatcher's pages: the workbench ``/cases``, a case ``/cases/{number}``, the filing form
``/cases/new``. Rendered with what the first paint needs inside (the vocabulary, the catalogue,
the page session if there is a live one, and on a case page the case as that user may see it),
so a page draws without a chain of requests; the rest comes from the API with the session.
Pages are never cached: they carry the session's CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse

from api.auth import SESSION_COOKIE
from api.deps import get_settings, run_read
from api.settings import Settings
from api.templating import templates
from geo.errors import NotFound, Unauthorized
from layers.accounts import sessions
from layers.cases import categories, intake, numbers, phrases, queries
from layers.db import vocabulary
from layers.grid import areas

router = APIRouter(tags=["pages"])
NO_STORE = {"Cache-Control": "no-store"}


FIRST_ROWS = 50  # the workbench's first page


def _first_paint(
    conn: Any, cookie: str | None, settings: Settings, number: str | None, rows: bool = False
) -> dict[str, Any]:
    """What a page needs to draw at once; the case (when asked for) as the session's user sees
    it, with its likely duplicates and standard texts; on the workbench, its first page of
    cases and the counts per status (``rows``)."""
    idle_h, max_h = settings.session_hours, settings.session_max_hours
    session = None
    if cookie:
        try:
            session = sessions.current(conn, cookie, idle_h, max_h)
        except Unauthorized:
            session = None
    found: dict[str, Any] = {
        "vocabulary": vocabulary.as_json(),
        "catalogue": categories.as_json(categories.load(conn)),
        "session": None,
    }
    generation = areas.active_generation(conn)
    found["streets"] = areas.names(conn, generation, "street") if generation is not None else []
    if session is not None:
        found["session"] = session.as_json()
    if rows and session is not None:
        cases, total = queries.listing(
            conn, queries.Filters(), limit=FIRST_ROWS, offset=0, actor=session.actor
        )
        found["list"] = {"numberMatched": total, "numberReturned": len(cases), "incidents": cases}
        found["counts"] = {"statuses": queries.counts(conn, queries.Filters())}
    if number is not None:
        found["id"] = queries.id_of(conn, number)
        if session is not None:
            case = found["case"] = queries.get(conn, found["id"], session.actor)
            found["duplicates"] = intake.likely_duplicates(conn, found["id"])
            found["phrases"] = phrases.listing(conn, category=case["category"])
    return found


async def _page(
    request: Request, template: str, number: str | None = None, rows: bool = False
) -> HTMLResponse:
    settings = get_settings(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        data = await run_read(request, _first_paint, cookie, settings, number, rows)
    except NotFound:
        context = {"config": {"session": None}, "number": number}
        return templates.TemplateResponse(
            request, "case_404.html", context, status_code=404, headers=NO_STORE
        )
    config = {"basemap": settings.basemap, "tianditu_key": settings.tianditu_key, **jsonable_encoder(data)}
    context = {"config": config, "number": number}
    return templates.TemplateResponse(request, template, context, headers=NO_STORE)


@router.get("/cases", response_class=HTMLResponse)
async def workbench(request: Request) -> HTMLResponse:
    """The case workbench: every case, filtered, sorted, counted, saved filters, exports, a map."""
    return await _page(request, "cases.html", rows=True)


@router.get("/cases/new", response_class=HTMLResponse)
async def new_case(request: Request) -> HTMLResponse:
    """Filing a case from a call: category, description, location four ways, the caller, duplicates."""
    return await _page(request, "case_new.html")


@router.get("/cases/{number}", response_class=HTMLResponse)
async def case_page(
    request: Request, number: Annotated[str, Path(pattern=numbers.PATTERN, description="A case number.")]
) -> HTMLResponse:
    """One case in one screen, with a button for each action the user may take."""
    return await _page(request, "case.html", number)
