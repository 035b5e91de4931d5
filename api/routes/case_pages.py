"""The dispatcher's pages: the workbench ``/cases``, a case ``/cases/{number}``, the filing form
``/cases/new``. Shells rendered once (Chinese, with the English toggle); the data comes from
the API with the page session, so what a user sees is what their role may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import get_settings, run_read
from api.templating import templates
from geo.errors import NotFound
from layers.cases import queries

router = APIRouter(tags=["pages"])


def _config(request: Request, **extra: Any) -> dict[str, Any]:
    settings = get_settings(request)
    return {"basemap": settings.basemap, "tianditu_key": settings.tianditu_key, **extra}


@router.get("/cases", response_class=HTMLResponse)
async def workbench(request: Request) -> HTMLResponse:
    """The case workbench: every case, filtered, sorted, counted, saved filters, exports, a map."""
    return templates.TemplateResponse(request, "cases.html", {"config": _config(request)})


@router.get("/cases/new", response_class=HTMLResponse)
async def new_case(request: Request) -> HTMLResponse:
    """Filing a case from a call: category, description, location four ways, the caller, duplicates."""
    return templates.TemplateResponse(request, "case_new.html", {"config": _config(request)})


@router.get("/cases/{number}", response_class=HTMLResponse)
async def case_page(
    request: Request, number: Annotated[str, Path(pattern=r"^\d{13}$", description="A case number.")]
) -> HTMLResponse:
    """One case in one screen, with a button for each action the user may take."""
    try:
        case_id = await run_read(request, queries.id_of, number)
    except NotFound:
        context = {"config": _config(request), "number": number}
        return templates.TemplateResponse(request, "case_404.html", context, status_code=404)
    return templates.TemplateResponse(
        request, "case.html", {"config": _config(request, id=case_id, number=number), "number": number}
    )
