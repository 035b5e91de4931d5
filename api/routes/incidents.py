"""Incidents: intake from any channel, reads, the workflow, categories.

Intake is public (residents report without an account); everything that changes a
case needs a role (``layers.workflow`` says which). A replayed ``Idempotency-Key``
answers 200 with the case it created and ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from api.casework import changed
from api.deps import (
    READERS,
    ActorDep,
    AdminDep,
    DispatcherDep,
    HandlerDep,
    IndexDep,
    charge_public_report,
    get_settings,
    get_state,
    run_tx,
)
from api.filing import Report
from api.params import CaseFiltersDep, CaseIdPath, one_of
from api.photo_uploads import DATA_URL, store_inline
from api.schemas import cases
from layers.accounts import audit
from layers.cases import categories, queries, workflow
from layers.cases.intake import IncidentIn
from layers.photos.records import PhotoRef

router = APIRouter(tags=["incidents"])


@router.post("/api/incidents", status_code=201, response_model=cases.Case)
async def create_incident(
    request: Request,
    report: IncidentIn,
    index: IndexDep,
    actor: ActorDep,
    idempotency_key: str | None = Header(default=None, pattern=r"^[!-~]{8,200}$"),
) -> JSONResponse:
    """File a case: located, routed, numbered, its clock started; likely duplicates listed.

    Photos come as URLs of ``POST /api/photos``, inline as ``data:`` URLs, or as files of a
    ``multipart/form-data`` request (the JSON in its part ``data``, the files in ``photos``);
    a photo's EXIF position locates a report that gives no location (``photo_exif``)."""
    charge_public_report(request, actor)
    state = get_state(request)
    refs, warnings = list(report.photos), list[str]()
    if any(DATA_URL.match(ref) for ref in refs):

        def store() -> tuple[list[str], list[str]]:
            with state.db.transaction() as conn:  # photos sent inline are stored before the case
                return store_inline(conn, request, report.photos, actor)

        refs, warnings = await run_in_threadpool(store)
    given = report.model_copy(update={"photos": refs}) if refs != report.photos else report
    case, created = await state.filer.file(Report(given, actor, idempotency_key, index))  # with others
    if warnings:
        case["warnings"] = warnings
    headers = {"Location": f"/api/incidents/{case['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(jsonable_encoder(case), status_code=201 if created else 200, headers=headers)


@router.get(
    "/api/incidents",
    dependencies=READERS,
    response_model=cases.CaseList | cases.CaseFeatures,
    response_model_exclude_unset=True,
)
async def list_incidents(
    request: Request,
    actor: ActorDep,
    filters: CaseFiltersDep,
    sort: str = Query("-received_at", pattern=one_of(queries.SORTS), description=", ".join(queries.SORTS)),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    f: Literal["json", "geojson"] = Query("json"),
) -> dict[str, Any]:
    """Cases with filters, paging and sorting; ``f=geojson`` for the map."""
    snap_m = get_settings(request).public_snap_m

    def work(conn: Any) -> tuple[list[dict[str, Any]], int]:
        return queries.listing(
            conn, filters, limit=limit, offset=offset, sort=sort, actor=actor, snap_m=snap_m
        )

    rows, total = await run_tx(request, work)
    page = {"numberMatched": total, "numberReturned": len(rows), "limit": limit, "offset": offset}
    if f == "geojson":
        features = [
            {"type": "Feature", "id": r["id"], "geometry": r.pop("point"), "properties": r} for r in rows
        ]
        return jsonable_encoder({"type": "FeatureCollection", **page, "features": features})
    return jsonable_encoder({**page, "incidents": rows})


@router.get(
    "/api/incidents/{case_id}",
    dependencies=READERS,
    response_model=cases.Case,
    response_model_exclude_unset=True,
)
async def get_incident(request: Request, case_id: CaseIdPath, actor: ActorDep) -> dict[str, Any]:
    """One case with its reporters (as the caller may see them) and its history."""
    snap_m = get_settings(request).public_snap_m
    return jsonable_encoder(await run_tx(request, queries.get, case_id, actor, snap_m))


class TransitionIn(cases.ActionIn):
    to: str = Field(max_length=20)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=9)
    unit: str | None = Field(
        default=None, min_length=1, max_length=20, description="A dispatch to another of the case's units."
    )


class TransferIn(cases.ActionIn):
    unit: str = Field(min_length=1, max_length=20)


class MergeIn(cases.ActionIn):
    into: int = Field(ge=1, le=2**63 - 1)


class EvaluationIn(cases.ActionIn):
    satisfied: bool


@router.post(
    "/api/incidents/{case_id}/transitions", response_model=cases.Case, response_model_exclude_unset=True
)
async def transition(
    request: Request, case_id: CaseIdPath, body: TransitionIn, actor: HandlerDep
) -> dict[str, Any]:
    """Move a case along the workflow (only legal transitions, by the roles allowed); photos
    as for a new case (URLs, inline, or the files of a form)."""

    def step(conn: Connection) -> None:
        photos, _ = store_inline(conn, request, body.photos, actor)
        workflow.transition(conn, case_id, body.to, actor, body.note, photos, body.unit)

    return await changed(request, step, case_id, actor, body.version)


@router.post(
    "/api/incidents/{case_id}/transfer", response_model=cases.Case, response_model_exclude_unset=True
)
async def transfer(
    request: Request, case_id: CaseIdPath, body: TransferIn, actor: DispatcherDep
) -> dict[str, Any]:
    """One-click transfer to another department or grid (转办)."""
    return await changed(
        request,
        lambda c: workflow.transfer(c, case_id, body.unit, actor, body.note),
        case_id,
        actor,
        body.version,
    )


@router.post("/api/incidents/{case_id}/merge", response_model=cases.Case, response_model_exclude_unset=True)
async def merge(request: Request, case_id: CaseIdPath, body: MergeIn, actor: DispatcherDep) -> dict[str, Any]:
    """Merge a duplicate into the case it repeats; its reporters are kept there. Answers that case."""
    return await changed(
        request, lambda c: workflow.merge(c, case_id, body.into, actor, body.note), case_id, actor,
        body.version, show=body.into,
    )  # fmt: skip


@router.post(
    "/api/incidents/{case_id}/evaluation", response_model=cases.Case, response_model_exclude_unset=True
)
async def evaluation(
    request: Request, case_id: CaseIdPath, body: EvaluationIn, actor: DispatcherDep
) -> dict[str, Any]:
    """The reporter's satisfaction with a closed case (回访)."""
    return await changed(
        request, lambda c: workflow.evaluate(c, case_id, body.satisfied, actor, body.note), case_id, actor,
        body.version,
    )  # fmt: skip


@router.get(
    "/api/categories",
    dependencies=READERS,
    response_model=cases.Categories,
    response_model_exclude_unset=True,
)
async def list_categories(request: Request) -> dict[str, Any]:
    """The case categories with their departments and time limits."""
    return categories.as_json(await run_tx(request, categories.load))


@router.patch("/api/categories/{code}", response_model=categories.Category, response_model_exclude_unset=True)
async def update_category(
    request: Request, code: str, change: categories.CategoryUpdate, actor: AdminDep
) -> dict[str, Any]:
    """Change a category (name, department, time limit, active): admins only."""

    def work(conn: Connection) -> categories.Category:
        found = categories.update_category(conn, code, change)
        audit.record(
            conn, actor, "category.update", f"category:{code}", **change.model_dump(exclude_none=True)
        )
        return found

    found = await run_tx(request, work)
    return found.__dict__
