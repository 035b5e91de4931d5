"""Supervising cases (the GB/T 30428 desk's extras): 督办/催办, 延期, 挂账, 重新办理,
re-routing a corrected case, repeat calls, the units a case may go to, and the stale-page check.

Each change takes the case's row lock, checks the actor's role and the case's state,
and appends an event to the log (``layers.cases.intake.log_event``), as the workflow does.
The clock is recomputed from the round's start with the category's limit plus the
extensions granted and the time suspended, in working time where the category counts so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, insert, select, update

from geo.errors import Conflict, Forbidden, InvalidInput
from layers.accounts.actors import Actor
from layers.cases import categories, worktime
from layers.cases.categories import Category
from layers.cases.intake import IncidentIn, Reporter, log_event, placement, reporter_row
from layers.cases.workflow import HANDLE, check_scope, check_unit, locked, require_dispatcher
from layers.db.models import INCIDENT_EVENTS, INCIDENT_REPORTERS, INCIDENTS
from layers.db.vocabulary import OPEN
from layers.grid.index import AreaIndex

CASES = INCIDENTS.c
IN_HAND = ("dispatched", "in_progress", "rework")  # a unit has it: it may ask for more time


def version(conn: Connection, case_id: int) -> int:
    """A case's version: the number of entries in its history (every change appends one)."""
    events = INCIDENT_EVENTS.c
    return int(conn.execute(select(func.count()).where(events.incident_id == case_id)).scalar_one())


def check_version(conn: Connection, case_id: int, expected: int | None) -> None:
    """Refuse to act on a case that changed since the page showing it was loaded (optimistic
    check): a 409 that says what happened meanwhile. Locks the case first."""
    locked(conn, case_id)
    if expected is None:
        return
    now = version(conn, case_id)
    if now == expected:
        return
    events = INCIDENT_EVENTS.c
    since = conn.execute(
        select(events.action, events.actor, events.to_status)
        .where(events.incident_id == case_id)
        .order_by(events.id)
        .offset(min(expected, now))
    ).all()
    changes = "; ".join(f"{e.action} by {e.actor} → {e.to_status}" for e in since) or "its history"
    raise Conflict(
        f"incident {case_id} changed since you loaded it (version {expected}, now {now}): {changes}",
        field="version",
        code="stale",
    )


def _open(case: Any, what: str) -> None:
    if case.status not in OPEN:
        raise Conflict(f"incident {case.id} is {case.status}; only open cases can be {what}", field="id")


def _note(note: str, what: str) -> None:
    if not note.strip():
        raise InvalidInput(f"{what} needs a note saying why", field="note")


def _clock(
    conn: Connection, case: Any, limits_of: Category, work_hours: worktime.WorkHours, **changes: Any
) -> None:
    """Store ``changes`` and the clock they imply under the limits of the case's category (as
    changed, ``limits_of``): the round's limit + extensions + time paused."""
    merged = {**case._mapping, **changes}
    start = merged["round_started_at"] or merged["received_at"]
    hours = limits_of.deadline_hours + merged["extended_hours"] + merged["paused_hours"]
    limits = worktime.clock(start, hours, limits_of.working_time, work_hours)
    times = {"warn_at": limits.warn_at, "deadline": limits.deadline, "escalate_at": limits.escalate_at}
    conn.execute(
        update(INCIDENTS).where(CASES.id == case.id).values(**changes, **times, updated_at=func.now())
    )


def urge(conn: Connection, case_id: int, actor: Actor, note: str = "") -> int:
    """督办/催办: press the handling unit; counted on the case. Answers how often it was urged."""
    require_dispatcher(actor, "urge cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    _open(case, "urged")
    urged = int(case.urged) + 1
    conn.execute(update(INCIDENTS).where(CASES.id == case_id).values(urged=urged, updated_at=func.now()))
    status = case.status
    log_event(conn, case_id, actor, "urge", status, status, unit=case.unit, note=note or f"督办 #{urged}")
    return urged


def request_extension(conn: Connection, case_id: int, hours: float, actor: Actor, note: str) -> None:
    """延期申请: the handling unit asks for ``hours`` more (up to the category's allowance)."""
    if actor.role not in HANDLE:
        raise Forbidden(f"a {actor.role} may not ask for extensions")
    case = locked(conn, case_id)
    check_unit(actor, case)
    if case.status not in IN_HAND:
        raise Conflict(
            f"incident {case_id} is {case.status}; a unit asks for time while it has the case",
            field="id",
        )
    if case.extension_hours is not None:
        raise Conflict(f"incident {case_id} already has an extension request waiting", field="hours")
    _note(note, "an extension")
    category = categories.load(conn).categories[case.category]
    allowed = category.extension_limit - case.extended_hours
    if hours > allowed:
        raise InvalidInput(
            f"{category.code} ({category.name}) allows {category.extension_limit:g} h of extensions in all; "
            f"{max(allowed, 0):g} h are left, not {hours:g}",
            field="hours",
            code="extension_too_long",
        )
    conn.execute(
        update(INCIDENTS)
        .where(CASES.id == case_id)
        .values(extension_hours=hours, extension_reason=note, updated_at=func.now())
    )
    status = case.status
    log_event(
        conn, case_id, actor, "extend_request", status, status, unit=case.unit, note=f"+{hours:g} h: {note}"
    )


def decide_extension(
    conn: Connection,
    work_hours: worktime.WorkHours,
    case_id: int,
    approve: bool,
    actor: Actor,
    note: str = "",
) -> None:
    """A dispatcher approves (the deadline moves, in working time where the category counts so)
    or refuses (with a note) the waiting extension request."""
    require_dispatcher(actor, "decide extensions")
    case = locked(conn, case_id)
    check_scope(actor, case)
    hours = case.extension_hours
    if hours is None:
        raise Conflict(f"incident {case_id} has no extension request waiting", field="approve")
    status = case.status
    cleared = {"extension_hours": None, "extension_reason": None}
    if approve:
        category = categories.load(conn).categories[case.category]
        _clock(conn, case, category, work_hours, extended_hours=case.extended_hours + hours, **cleared)
        log_event(conn, case_id, actor, "extend_approve", status, status, note=f"+{hours:g} h {note}".strip())
        return
    _note(note, "refusing an extension")
    conn.execute(update(INCIDENTS).where(CASES.id == case_id).values(**cleared, updated_at=func.now()))
    log_event(conn, case_id, actor, "extend_refuse", status, status, note=note)


def suspend(conn: Connection, case_id: int, review_on: date, actor: Actor, note: str) -> None:
    """挂账: a case that cannot be solved now waits, with a reason and a review date; it is not
    overdue meanwhile (its clock is paused until it is resumed)."""
    require_dispatcher(actor, "suspend cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    _open(case, "suspended")
    if case.suspended_at is not None:
        raise Conflict(f"incident {case_id} is suspended already (review on {case.review_on})", field="id")
    _note(note, "suspending a case")
    today = conn.execute(select(func.timezone("Asia/Shanghai", func.now()))).scalar_one().date()
    if review_on <= today:
        raise InvalidInput(f"the review date {review_on} is not after today ({today})", field="review_on")
    conn.execute(
        update(INCIDENTS)
        .where(CASES.id == case_id)
        .values(suspended_at=func.now(), review_on=review_on, suspend_reason=note, updated_at=func.now())
    )
    status = case.status
    log_event(conn, case_id, actor, "suspend", status, status, note=f"review on {review_on}: {note}")


def resume(
    conn: Connection,
    work_hours: worktime.WorkHours,
    case_id: int,
    actor: Actor,
    note: str = "",
) -> None:
    """End a suspension: the time it lasted is added to the case's limit."""
    require_dispatcher(actor, "resume cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    if case.suspended_at is None:
        raise Conflict(f"incident {case_id} is not suspended", field="id")
    now: datetime = conn.execute(select(func.now())).scalar_one()
    category = categories.load(conn).categories[case.category]
    paused = (
        work_hours.between(case.suspended_at, now)
        if category.working_time
        else (now - case.suspended_at) / timedelta(hours=1)
    )
    cleared = {"suspended_at": None, "review_on": None, "suspend_reason": None}
    _clock(conn, case, category, work_hours, paused_hours=case.paused_hours + paused, **cleared)
    status = case.status
    log_event(conn, case_id, actor, "resume", status, status, note=f"paused {paused:.1f} h {note}".strip())


def reopen(
    conn: Connection,
    work_hours: worktime.WorkHours,
    case_id: int,
    actor: Actor,
    note: str,
) -> None:
    """重新办理: the reporter says a closed case is not fixed; a new round for the same unit,
    with a fresh clock, counted as rework in the KPIs."""
    require_dispatcher(actor, "reopen cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    if case.status != "closed":
        raise Conflict(f"incident {case_id} is {case.status}; only closed cases are reopened", field="id")
    _note(note, "reopening a case")
    now = conn.execute(select(func.now())).scalar_one()
    category = categories.load(conn).categories[case.category]
    _clock(
        conn, case, category, work_hours, status="dispatched", rounds=case.rounds + 1, round_started_at=now,
        extended_hours=0.0, paused_hours=0.0, closed_at=None, satisfied=None, handler=None,
    )  # fmt: skip
    log_event(conn, case_id, actor, "reopen", "closed", "dispatched", unit=case.unit, note=note)


def reroute(
    conn: Connection,
    index: AreaIndex,
    work_hours: worktime.WorkHours,
    case_id: int,
    actor: Actor,
    category_code: str | None,
    where: dict[str, Any],
    note: str = "",
) -> None:
    """A dispatcher corrects a case's category and/or location: it is located and routed again
    (the matrix runs again); a case already with a unit that is no longer responsible goes
    to the new unit as dispatched. The history says what changed."""
    require_dispatcher(actor, "correct cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    _open(case, "corrected")
    catalogue = categories.load(conn)
    category = catalogue.category(category_code or case.category)
    moved = bool(where)
    if not moved:  # the category alone changes: the case stays where it is
        old = case.location_input or {}
        where = {k: old[k] for k in ("lon", "lat", "crs", "address", "asset_id") if k in old}
    try:
        correction = IncidentIn(source=case.source, category=category.code, **where)
    except ValidationError as exc:
        raise InvalidInput(str(exc.errors()[0]["msg"]), field="lon") from None
    placed, notes, _ = placement(conn, index, catalogue, category, correction)
    changes: dict[str, Any] = {**placed, "category": category.code, "location_note": "; ".join(notes) or None}
    status = case.status
    if placed["unit"] != case.unit and status in ("in_progress", "rework"):
        changes.update(status="dispatched", handler=None)
    said = []
    if category.code != case.category:
        said.append(f"category {case.category} → {category.code}")
    if moved:
        said.append(f"location {placed['located_by']} → {placed['micro_grid'] or 'outside every grid'}")
    if placed["unit"] != case.unit:
        said.append(f"unit {case.unit} → {placed['unit']} ({placed['routed_by']})")
    if not said:
        raise InvalidInput("the correction changes neither the category nor the location", field="category")
    _clock(conn, case, category, work_hours, **changes)
    log_event(
        conn, case_id, actor, "reroute", status, changes.get("status", status), unit=placed["unit"],
        note="; ".join(said) + (f". {note}" if note else ""),
    )  # fmt: skip


def add_repeat(
    conn: Connection, case_id: int, actor: Actor, source: str, reporter: Reporter, note: str = ""
) -> int:
    """A repeat call about an open case (重复来电): its caller joins the case, the call is a note
    and a count, no new case. Answers the case's repeat count."""
    require_dispatcher(actor, "attach calls")
    case = locked(conn, case_id)
    _open(case, "called about again")
    repeats = int(case.repeats) + 1
    conn.execute(update(INCIDENTS).where(CASES.id == case_id).values(repeats=repeats, updated_at=func.now()))
    conn.execute(
        insert(INCIDENT_REPORTERS).values(incident_id=case_id, source=source, **reporter_row(reporter))
    )
    status = case.status
    log_event(conn, case_id, actor, "repeat", status, status, note=note or f"repeat call #{repeats}")
    return repeats
