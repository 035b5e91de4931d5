"""The case workbench's API: counts per status, map clusters, saved filters, standard texts
and background exports of a filtered list. Registered before ``incidents`` so that its
fixed paths (``/api/incidents/counts``…) are not read as a case id."""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, AdminDep, HandlerDep, StaffDep, get_settings, get_state, run_read, run_tx
from api.params import TEXT, CaseFiltersDep, one_of
from api.schemas import cases
from geo.errors import Conflict
from layers.accounts import filters as saved
from layers.cases import exports, phrases, queries

router = APIRouter(tags=["workbench"])
FilterName = Annotated[str, Path(min_length=1, max_length=40, pattern=TEXT)]
Sort = Annotated[str, Query(pattern=one_of(queries.SORTS), description=", ".join(queries.SORTS))]


@router.get("/api/incidents/counts", response_model=cases.Counts)
async def counts(request: Request, actor: ActorDep, filters: CaseFiltersDep) -> dict[str, Any]:
    """How many cases match the filters, in all and per status (the status filter itself left out)."""
    snap_m = get_settings(request).public_snap_m if actor.role == "public" else 0.0
    found = await run_read(request, queries.counts, filters, snap_m)
    wanted = set(filters.status or found)
    return {"total": sum(n for s, n in found.items() if s in wanted), "statuses": found}


@router.get("/api/incidents/clusters", response_model=cases.Clusters)
async def clusters(
    request: Request,
    actor: ActorDep,
    filters: CaseFiltersDep,
    zoom: int = Query(13, ge=0, le=22, description="The map's zoom: cells of about 64 pixels at it."),
) -> dict[str, Any]:
    """The filtered cases as clusters for the map (server-side: fast for any number of cases)."""
    snap_m = get_settings(request).public_snap_m
    found = await run_read(request, queries.clusters, filters, zoom, actor, snap_m)
    return {"zoom": zoom, "total": sum(c["count"] for c in found), "clusters": found}


class FilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(max_length=2000, pattern=r"^[^\x00#]*$", description="The list's query string.")


@router.get("/api/me/filters", response_model=cases.SavedFilters)
async def my_filters(request: Request, actor: StaffDep) -> dict[str, Any]:
    """The caller's saved filters of the workbench."""
    return {"filters": await run_read(request, saved.listing, actor.name)}


@router.put("/api/me/filters/{name}", response_model=cases.SavedFilters)
async def save_filter(request: Request, name: FilterName, body: FilterIn, actor: StaffDep) -> dict[str, Any]:
    """Save (or replace) a named filter; answers them all."""

    def work(conn: Any) -> list[dict[str, Any]]:
        saved.save(conn, actor.name, name, body.query.lstrip("?"))
        return saved.listing(conn, actor.name)

    return {"filters": await run_tx(request, work)}


@router.delete("/api/me/filters/{name}", status_code=204)
async def delete_filter(request: Request, name: FilterName, actor: StaffDep) -> Response:
    """Delete a saved filter."""
    await run_tx(request, saved.remove, actor.name, name)
    return Response(status_code=204)


@router.get("/api/me/tasks", response_model=cases.Tasks, response_model_exclude_unset=True)
async def my_tasks(
    request: Request,
    actor: HandlerDep,
    lon: float | None = Query(
        None, ge=-180, le=180, description="Where the worker is (WGS84): nearest first."
    ),
    lat: float | None = Query(None, ge=-90, le=90),
) -> dict[str, Any]:
    """The field phone's list: cases of my unit or grid to handle and to verify, overdue first,
    then nearest (``distance_m`` from ``lon, lat``)."""
    return {"tasks": await run_read(request, queries.tasks, actor, lon, lat)}


@router.get("/api/phrases", response_model=cases.Phrases)
async def list_phrases(
    request: Request,
    actor: StaffDep,
    action: str | None = Query(None, pattern=one_of(phrases.ACTIONS)),
    category: str | None = Query(None, pattern=r"^[EC]\d{4}$"),
) -> dict[str, Any]:
    """Standard texts (常用语) for an action's note: the category's own first, then the general ones."""
    return {"phrases": await run_read(request, phrases.listing, action, category)}


class PhraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal[phrases.ACTIONS]  # type: ignore[valid-type]
    category: str | None = Field(default=None, pattern=r"^[EC]\d{4}$")
    text: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")
    position: int = Field(default=0, ge=0, le=10_000)


@router.post("/api/phrases", status_code=201, response_model=cases.Phrases)
async def add_phrase(request: Request, body: PhraseIn, actor: AdminDep) -> dict[str, Any]:
    """Add a standard text (admins); answers the action's texts."""

    def work(conn: Any) -> list[dict[str, Any]]:
        phrases.add(conn, body.action, body.text, body.category, body.position)
        return phrases.listing(conn, body.action, body.category)

    return {"phrases": await run_tx(request, work)}


@router.delete("/api/phrases/{phrase_id}", status_code=204)
async def delete_phrase(
    request: Request, phrase_id: Annotated[int, Path(ge=1, le=2**31 - 1)], actor: AdminDep
) -> Response:
    """Delete a standard text (admins)."""
    await run_tx(request, phrases.remove, phrase_id)
    return Response(status_code=204)


def _job(job: dict[str, Any]) -> dict[str, Any]:
    done = job["state"] == "done"
    return {**job, "file_url": f"/api/incidents/exports/{job['id']}/file" if done else None}


@router.post("/api/incidents/exports", status_code=202, response_model=cases.ExportJob)
async def start_export(
    request: Request,
    actor: StaffDep,
    filters: CaseFiltersDep,
    f: Literal["csv", "xlsx"] = Query("xlsx"),
    sort: Sort = "-received_at",
) -> dict[str, Any]:
    """Export the filtered list as CSV or XLSX in the background; poll the job for its progress.
    Reporter columns show what the caller may see (masked phones for most staff)."""
    state = get_state(request)
    query = str(request.url.query)
    job = await run_tx(request, exports.start, actor, f, query, filters)
    args = (state.db, state.settings.var_dir, job["id"], actor, filters, sort)
    threading.Thread(target=exports.run, args=args, name=f"export-{job['id']}", daemon=True).start()
    return _job(job)


@router.get("/api/incidents/exports/{job_id}", response_model=cases.ExportJob)
async def export_job(
    request: Request, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")], actor: StaffDep
) -> dict[str, Any]:
    """An export's progress (rows done of total) and, when done, where its file is."""
    return _job(await run_read(request, exports.get, job_id, actor))


@router.get(
    "/api/incidents/exports/{job_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}, exports.XLSX: {}}}},
)
async def export_file(
    request: Request, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")], actor: StaffDep
) -> FileResponse:
    """The finished export's file."""
    job = await run_read(request, exports.get, job_id, actor)
    if job["state"] != "done":
        raise Conflict(f"export {job_id} is {job['state']}", field="id", code=f"export_{job['state']}")
    path = exports.path_of(get_settings(request).var_dir, job)
    media = "text/csv; charset=utf-8" if job["format"] == "csv" else exports.XLSX
    return FileResponse(path, media_type=media, filename=f"cases-{job_id}.{job['format']}")
