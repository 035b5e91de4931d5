"""What residents use besides filing: similar open cases near a spot, following one, tracking
a case by its number, and answering the satisfaction visit (回访). All of it without an
account; the public's view of a case (snapped point, no people, no staff)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from api.deps import ActorDep, action_key, charge_public_report, get_settings, get_state, run_read, run_tx
from api.params import CRS, CRS_HELP, CaseIdPath
from api.schemas import cases
from geo.crs import to_wgs84
from geo.errors import Forbidden
from layers.accounts.actors import PUBLIC
from layers.cases import categories, intake, numbers, queries, residents, workflow
from layers.cases.intake import Reporter
from layers.db import keys
from layers.outbox.events import visit_token

router = APIRouter(tags=["residents"])
NumberPath = Path(pattern=numbers.PATTERN, description="The case number (date and serial).")


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["wechat", "hotline", "grid_worker", "photo_report", "open311"] = "photo_report"
    reporter: Reporter = Field(default_factory=Reporter)


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(pattern=r"^[0-9a-f]{24}$", description="From the visit link the reporter got.")
    satisfied: bool
    note: str = Field(default="", max_length=500, pattern=r"^[^\x00]*$")


@router.get("/api/incidents/similar", response_model=cases.Duplicates)
async def similar(
    request: Request,
    actor: ActorDep,
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    category: str = Query(pattern=r"^[EC]\d{4}$"),
    crs: str = Query("wgs84", pattern=CRS, description=CRS_HELP),
) -> dict[str, Any]:
    """Cases of ``category`` near a spot as near and recent as the category counts duplicates
    (open, or closed within its window): shown before filing, to follow one instead."""
    x, y = to_wgs84(lon, lat, crs)
    snap_m = get_settings(request).public_snap_m if actor is PUBLIC else 0.0

    def work(conn: Connection) -> list[dict[str, Any]]:
        kind = categories.load(conn).category(category)
        radius, hours = kind.duplicate_m, kind.duplicate_hours
        found = intake.similar_near(conn, float(x), float(y), kind.code, radius, hours, snap_m=snap_m)
        return [{**r, "category": kind.code} for r in found]

    return {"likely_duplicates": await run_read(request, work)}


@router.post("/api/incidents/{case_id}/followers", status_code=201, response_model=cases.Followed)
async def follow(request: Request, case_id: CaseIdPath, body: FollowIn, actor: ActorDep) -> dict[str, Any]:
    """Follow an open case instead of filing the same again: the resident joins it (told of its
    progress if they ask), it counts as a repeat report. Closed or merged cases are refused."""
    charge_public_report(request, actor)
    key = action_key(request)

    def work(conn: Connection) -> dict[str, Any]:
        if key is not None:  # a phone sending its queue again: one follow, the first answer
            first = keys.claim(conn, key, f"follow:{case_id}", actor.name)
            if first is not keys.NEW:
                return dict(first)
        repeats = residents.follow(conn, case_id, actor, body.source, body.reporter)
        number = queries.number_of(conn, case_id)
        answer = {"id": case_id, "number": number, "repeats": repeats, "track": f"/track/{number}"}
        if key is not None:
            keys.keep(conn, key, answer)
        return answer

    return await run_tx(request, work)


def _tracked(conn: Connection, number: str, snap_m: float) -> dict[str, Any]:
    case = queries.get(conn, queries.id_of(conn, number), PUBLIC, snap_m)
    case["visit_open"] = residents.visit_open(case)
    case["reason"] = queries.rejection_reason(conn, case["id"]) if case["status"] == "rejected" else None
    into = case.get("merged_into")
    case["merged_number"] = queries.number_of(conn, into) if into else None
    return case


@router.get("/api/track/{number}", response_model=cases.Tracked, response_model_exclude_unset=True)
async def track(request: Request, number: str = NumberPath) -> dict[str, Any]:
    """A case as its reporter follows it: status, the steps in time, the reply when rejected —
    the public's view for everyone (no names, no staff, the point snapped)."""
    return await run_read(request, _tracked, number, get_settings(request).public_snap_m)


@router.post("/api/track/{number}/visit", response_model=cases.Tracked, response_model_exclude_unset=True)
async def visit(request: Request, body: VisitIn, number: str = NumberPath) -> dict[str, Any]:
    """The reporter's answer to the satisfaction visit (回访), with the key of the link they got;
    it is the case's evaluation (the KPI's satisfaction). Once."""
    if body.token != visit_token(get_state(request).secret, number):
        raise Forbidden("this visit link is not valid for this case")
    snap_m = get_settings(request).public_snap_m

    def work(conn: Connection) -> dict[str, Any]:
        case_id = queries.id_of(conn, number)
        workflow.evaluate(conn, case_id, body.satisfied, PUBLIC, body.note, by_reporter=True)
        return _tracked(conn, number, snap_m)

    return await run_tx(request, work)
