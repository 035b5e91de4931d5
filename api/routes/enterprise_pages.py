"""The enterprise pages: the cockpit ``/cockpit`` (planners and admins, or the public when
``WANGGE_COCKPIT_PUBLIC``), the search ``/enterprises`` and a day's push
``/enterprises/digest/{date}``. The cockpit is drawn on the server from the register (made
once per data version) and prints to PDF; the other two fetch their rows with the session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response

from api.auth import SESSION_COOKIE
from api.deps import get_settings, get_state, run_read, run_stale_read
from api.printing import html_to_pdf
from api.templating import templates
from geo.errors import Busy, Unauthorized
from layers.accounts import sessions
from layers.cases import worktime
from layers.db.vocabulary import ENTERPRISE_STATUSES
from layers.enterprises import cockpit, industries, queries
from layers.grid import areas

router = APIRouter(tags=["pages"])
NO_STORE = {"Cache-Control": "no-store"}
COCKPIT_ROLES = ("planner", "admin")


def _session(conn: Any, cookie: str | None, idle_h: float, max_h: float) -> dict[str, Any] | None:
    if not cookie:
        return None
    try:
        return sessions.current(conn, cookie, idle_h, max_h).as_json()
    except Unauthorized:
        return None


def _shell(conn: Any, cookie: str | None, idle_h: float, max_h: float) -> dict[str, Any]:
    generation = areas.active_generation(conn)
    return {
        "session": _session(conn, cookie, idle_h, max_h),
        "streets": areas.names(conn, generation, "street") if generation is not None else [],
    }


async def _first(request: Request) -> dict[str, Any]:
    s = get_settings(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    return await run_read(request, _shell, cookie, s.session_hours, s.session_max_hours)


@router.get("/cockpit", response_class=HTMLResponse, responses={200: {"content": {"application/pdf": {}}}})
async def cockpit_page(request: Request, f: str = Query("html", pattern="^(html|pdf)$")) -> Response:
    """One screen of the district's enterprises: the panorama, per street, the 2+6 mix,
    registrations and closings, moves, the separation check, abnormal operation, head firms."""
    first = await _first(request)
    settings = get_settings(request)
    allowed = settings.cockpit_public or (first["session"] or {}).get("role") in COCKPIT_ROLES
    config = jsonable_encoder({"session": first["session"]})
    if not allowed:
        context = {"config": config, "c": None}
        status = 401 if f == "pdf" else 200
        return templates.TemplateResponse(
            request, "cockpit.html", context, status_code=status, headers=NO_STORE
        )
    state = get_state(request)
    key = ("cockpit", worktime.today(), await run_stale_read(request, cockpit.data_version))
    made = state.reports.get(key)
    if made is None:  # the same register on the same day is the same cockpit: drawn once
        made = {"c": await run_stale_read(request, cockpit.build, worktime.today())}
        state.reports[key] = made
    if f == "pdf":
        if "pdf" not in made:
            if state.printing.available_tokens < 1:
                raise Busy("the server is printing another document; retry in a few seconds", 5.0)
            page = templates.get_template("cockpit.html").render(config=config, c=made["c"], request=request)
            async with state.printing:
                made["pdf"] = await run_in_threadpool(html_to_pdf, page)
        name = f"wangge-cockpit-{worktime.today().isoformat()}.pdf"
        return Response(made["pdf"], media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})  # fmt: skip
    context = {"config": config, "c": made["c"]}
    return templates.TemplateResponse(request, "cockpit.html", context, headers=NO_STORE)


@router.get("/enterprises", response_class=HTMLResponse)
async def search_page(request: Request) -> HTMLResponse:
    """The register searched with any combination of filters (企业猎搜), exported as CSV/XLSX."""
    first = await _first(request)
    context = {
        "config": jsonable_encoder({"session": first["session"]}),
        "labels": list(industries.labels()),
        "statuses": ENTERPRISE_STATUSES,
        "streets": first["streets"],
        "kinds": queries.KIND_NAMES,
    }
    return templates.TemplateResponse(request, "enterprises.html", context, headers=NO_STORE)


@router.get("/enterprises/digest/{day}", response_class=HTMLResponse)
async def digest_page(
    request: Request, day: Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
) -> HTMLResponse:
    """A day's push as each street office and department got it; a street marks visits (a day
    not pushed yet says so on the page, from the API's answer)."""
    first = await _first(request)
    context = {"config": jsonable_encoder({"session": first["session"]}), "day": day}
    return templates.TemplateResponse(request, "enterprise_digest.html", context, headers=NO_STORE)
