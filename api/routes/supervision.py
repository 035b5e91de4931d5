"""Supervising cases: 督办 (urge), 延期 (extension asked, approved or refused), 挂账 (suspend,
resume), 重新办理 (reopen), correcting a case (re-routed by the matrix), repeat calls, the
units a case may go to and its likely duplicates. Who may do what: docs/incidents.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from api.casework import changed
from api.deps import ActorDep, DispatcherDep, HandlerDep, IndexDep, StaffDep, get_settings, get_state, run_tx
from api.params import CaseIdPath
from api.schemas import cases
from layers.cases import categories, intake, supervision, units
from layers.cases.intake import Reporter
from layers.cases.worktime import WorkHours

router = APIRouter(tags=["incidents"])


class ExtensionIn(cases.ActionIn):
    hours: float = Field(gt=0, le=24 * 365, description="More time asked for, in the category's hours.")


class DecisionIn(cases.ActionIn):
    approve: bool


class SuspensionIn(cases.ActionIn):
    review_on: date = Field(description="When the suspended case is looked at again (Beijing date).")


class CorrectionIn(cases.ActionIn):
    category: str | None = Field(default=None, pattern=r"^[EC]\d{4}$")
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str | None = Field(default=None, min_length=1, max_length=200)
    asset_id: str | None = None


class RepeatIn(cases.ActionIn):
    source: Literal["wechat", "hotline", "grid_worker", "camera", "photo_report", "open311"] = "hotline"
    reporter: Reporter = Field(default_factory=Reporter)


def _work_hours(request: Request) -> WorkHours:
    return get_state(request).work_hours


def _action(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An action on a case: POSTed to ``path``, answered with the case as the actor sees it."""
    return router.post(path, response_model=cases.Case, response_model_exclude_unset=True)


@_action("/api/incidents/{case_id}/urge")
async def urge(request: Request, case_id: CaseIdPath, body: cases.ActionIn, actor: DispatcherDep) -> Any:
    """督办/催办: press the handling unit; shown on the case and counted."""
    return await changed(
        request, lambda c: supervision.urge(c, case_id, actor, body.note), case_id, actor, body.version
    )


@_action("/api/incidents/{case_id}/extension")
async def ask_extension(request: Request, case_id: CaseIdPath, body: ExtensionIn, actor: HandlerDep) -> Any:
    """延期申请: the handling unit asks for more time, with a reason (up to the category's allowance)."""
    return await changed(
        request, lambda c: supervision.request_extension(c, case_id, body.hours, actor, body.note),
        case_id, actor, body.version,
    )  # fmt: skip


@_action("/api/incidents/{case_id}/extension/decision")
async def decide_extension(
    request: Request, case_id: CaseIdPath, body: DecisionIn, actor: DispatcherDep
) -> Any:
    """A dispatcher approves (the deadline moves in working time) or refuses (with a note) an extension."""
    hours = _work_hours(request)
    return await changed(
        request, lambda c: supervision.decide_extension(c, hours, case_id, body.approve, actor, body.note),
        case_id, actor, body.version,
    )  # fmt: skip


@_action("/api/incidents/{case_id}/suspension")
async def suspend(request: Request, case_id: CaseIdPath, body: SuspensionIn, actor: DispatcherDep) -> Any:
    """挂账: the case waits, with a reason and a review date; it is not overdue meanwhile."""
    return await changed(
        request, lambda c: supervision.suspend(c, case_id, body.review_on, actor, body.note), case_id, actor,
        body.version,
    )  # fmt: skip


@_action("/api/incidents/{case_id}/resume")
async def resume(request: Request, case_id: CaseIdPath, body: cases.ActionIn, actor: DispatcherDep) -> Any:
    """End a suspension; the time it lasted is added to the case's limit."""
    hours = _work_hours(request)
    return await changed(
        request,
        lambda c: supervision.resume(c, hours, case_id, actor, body.note),
        case_id,
        actor,
        body.version,
    )


@_action("/api/incidents/{case_id}/reopen")
async def reopen(request: Request, case_id: CaseIdPath, body: cases.ActionIn, actor: DispatcherDep) -> Any:
    """重新办理: a closed case is not fixed; a new round for its unit, counted as rework."""
    hours = _work_hours(request)
    return await changed(
        request,
        lambda c: supervision.reopen(c, hours, case_id, actor, body.note),
        case_id,
        actor,
        body.version,
    )


@_action("/api/incidents/{case_id}/correction")
async def correct(
    request: Request, case_id: CaseIdPath, body: CorrectionIn, actor: DispatcherDep, index: IndexDep
) -> Any:
    """Correct a case's category and/or location: located and routed again, the change in its history."""
    hours = _work_hours(request)
    where = body.model_dump(include={"lon", "lat", "crs", "address", "asset_id"}, exclude_none=True)
    if where.keys() <= {"crs"}:  # no new location: the category alone is corrected
        where = {}

    def change(conn: Any) -> None:
        supervision.reroute(conn, index, hours, case_id, actor, body.category, where, body.note)

    return await changed(request, change, case_id, actor, body.version)


@_action("/api/incidents/{case_id}/repeats")
async def repeat_call(request: Request, case_id: CaseIdPath, body: RepeatIn, actor: DispatcherDep) -> Any:
    """A repeat call about an open case: the caller joins it, the call is a note and a count."""
    return await changed(
        request, lambda c: supervision.add_repeat(c, case_id, actor, body.source, body.reporter, body.note),
        case_id, actor, body.version,
    )  # fmt: skip


@router.get("/api/incidents/{case_id}/units", response_model=cases.Units)
async def case_units(request: Request, case_id: CaseIdPath, actor: StaffDep) -> dict[str, Any]:
    """The units the case may be dispatched or transferred to, and why (the matrix's candidates)."""

    def work(conn: Any) -> list[units.Candidate]:
        return units.candidates(conn, categories.load(conn), case_id)

    return {"units": [c.__dict__ for c in await run_tx(request, work)]}


@router.get("/api/incidents/{case_id}/duplicates", response_model=cases.Duplicates)
async def duplicates(request: Request, case_id: CaseIdPath, actor: ActorDep) -> dict[str, Any]:
    """Cases of the same category near this one in space and time, as near and as recent as the
    category says; closed ones of the window too (the public: coarse distances)."""
    snap_m = get_settings(request).public_snap_m if actor.role == "public" else 0.0
    found = await run_tx(request, intake.likely_duplicates, case_id, snap_m)
    return {"likely_duplicates": found}
