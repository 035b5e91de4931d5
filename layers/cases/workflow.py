"""The case workflow: legal transitions with their roles, transfer, merge, evaluation.

received → registered → dispatched → in_progress → verifying → closed, with
rejected (不予立案), returned (dispatched → registered, 退回), rework (verifying →
rework → in_progress, 返工) and duplicate (only by merging). Every change takes the
case's row lock, checks the transition and the actor's role (and, for field staff,
that the case is their unit's), and appends to the event log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, update

from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from layers.accounts.actors import Actor
from layers.cases import categories, units
from layers.cases.intake import log_event
from layers.db.models import INCIDENT_REPORTERS, INCIDENTS
from layers.db.vocabulary import DISPATCHERS, HANDLERS, OPEN

DISPATCH = frozenset(DISPATCHERS)
HANDLE = frozenset(HANDLERS)

# (from, to) → roles allowed; anything else is illegal
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("received", "registered"): DISPATCH,
    ("received", "rejected"): DISPATCH,
    ("registered", "dispatched"): DISPATCH,
    ("registered", "rejected"): DISPATCH,
    ("dispatched", "in_progress"): HANDLE,
    ("dispatched", "registered"): HANDLE,  # returned by the unit: not ours (退回)
    ("in_progress", "verifying"): HANDLE,  # handled, reported back with photos (反馈)
    ("rework", "in_progress"): HANDLE,
    ("verifying", "closed"): HANDLE,  # verified on site (核查) by someone else than the handler
    ("verifying", "rework"): HANDLE,
}
NEEDS_NOTE = {("dispatched", "registered"), ("verifying", "rework"), ("received", "rejected"),
              ("registered", "rejected")}  # fmt: skip
TRANSFERABLE = ("registered", "dispatched", "in_progress", "rework")


def locked(conn: Connection, case_id: int) -> Any:
    """Case ``case_id``, its row locked until the transaction ends (every change takes it)."""
    row = conn.execute(select(INCIDENTS).where(INCIDENTS.c.id == case_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no incident {case_id}", field="id")
    return row


def require_dispatcher(actor: Actor, what: str) -> None:
    """Only dispatchers (and admins) do ``what``."""
    if actor.role not in DISPATCH:
        raise Forbidden(f"a {actor.role} may not {what}")


def check_unit(actor: Actor, case: Any) -> None:
    """Field staff act on their own unit's cases (or their grid's) only; a field account
    without a unit acts on none (not on the cases outside every grid either)."""
    if actor.role == "field" and (actor.unit is None or actor.unit not in (case.unit, case.grid)):
        raise Forbidden(f"incident {case.id} belongs to {case.unit}, not to your unit {actor.unit}")


def check_scope(actor: Actor, case: Any) -> None:
    """A dispatcher with a unit (a street, or the district's code for the whole district)
    dispatches the cases located in it or handed to it; without a unit, every case."""
    if actor.role != "dispatcher" or actor.unit is None:
        return
    where = case.micro_grid or case.unit or ""
    if not (where.startswith(actor.unit) or case.unit == actor.unit):
        raise Forbidden(f"incident {case.id} lies in {where or 'no area'}, outside your unit {actor.unit}")


def transition(
    conn: Connection,
    case_id: int,
    to: str,
    actor: Actor,
    note: str = "",
    photos: list[str] | None = None,
    unit: str | None = None,
) -> str:
    """Move a case to ``to``; answers the state it came from. A dispatch may name the unit
    (one of the matrix's candidates, ``layers.cases.units``); it defaults to the routed one."""
    case = locked(conn, case_id)
    step = (case.status, to)
    if step not in TRANSITIONS:
        legal = sorted(t for f, t in TRANSITIONS if f == case.status)
        raise Conflict(
            f"incident {case_id} is {case.status}; it can go to {', '.join(legal) or 'nothing'}, not {to}",
            field="to",
            code="illegal_transition",
        )
    if actor.role not in TRANSITIONS[step]:
        raise Forbidden(f"a {actor.role} may not move a case from {case.status} to {to}")
    check_scope(actor, case)
    if step[0] != "received" and step[1] != "dispatched":
        check_unit(actor, case)
    if step in NEEDS_NOTE and not note.strip():
        raise InvalidInput(f"{case.status} → {to} needs a note saying why", field="note")
    if step == ("in_progress", "verifying") and not photos:
        raise InvalidInput("reporting back needs at least one after photo", field="photos")
    if case.status == "verifying" and actor.name == case.handler:
        raise Forbidden(f"{actor.name} handled incident {case_id}; another person must verify it")
    cols = INCIDENTS.c
    sets: dict[str, Any] = {"status": to, "updated_at": func.now()}
    if unit is not None and unit != case.unit:
        if to != "dispatched":
            raise InvalidInput("only a dispatch names the unit; transfer a case to move it", field="unit")
        units.check_candidate(conn, categories.load(conn), case_id, unit)
        sets.update(unit=unit, second_unit=case.unit)
    if to in ("registered", "dispatched", "rejected"):
        sets["responded_at"] = func.coalesce(cols.responded_at, func.now())
    if to == "in_progress" or to == "verifying":
        sets["handler"] = actor.name
    if to == "closed" or to == "rejected":
        sets["closed_at"] = func.now()
    conn.execute(update(INCIDENTS).where(cols.id == case_id).values(**sets))
    log_event(
        conn, case_id, actor, "transition", case.status, to, unit=sets.get("unit", case.unit), note=note,
        photos=photos,
    )  # fmt: skip
    return str(case.status)


def transfer(conn: Connection, case_id: int, unit: str, actor: Actor, note: str = "") -> None:
    """One-click transfer (转办/改派) to another department or grid; the new unit must accept it."""
    require_dispatcher(actor, "transfer cases")
    case = locked(conn, case_id)
    check_scope(actor, case)
    if case.status not in TRANSFERABLE:
        raise Conflict(f"incident {case_id} is {case.status}; it cannot be transferred", field="unit")
    units.check_candidate(conn, categories.load(conn), case_id, unit)
    if unit == case.unit:
        raise InvalidInput(f"incident {case_id} is already with {unit}", field="unit")
    status = "dispatched" if case.status in ("in_progress", "rework") else case.status
    moved = {"unit": unit, "second_unit": case.unit, "status": status, "handler": None}
    conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == case_id).values(**moved, updated_at=func.now()))
    log_event(conn, case_id, actor, "transfer", case.status, status, unit=unit, note=note)


def merge(conn: Connection, case_id: int, into: int, actor: Actor, note: str = "") -> None:
    """Mark ``case_id`` a duplicate of ``into``; its reporters join the surviving case."""
    require_dispatcher(actor, "merge cases")
    if case_id == into:
        raise InvalidInput("a case cannot be merged into itself", field="into")
    first, second = sorted((case_id, into))  # lock in id order: no deadlock between two merges
    rows = {r.id: r for r in (locked(conn, first), locked(conn, second))}
    case, target = rows[case_id], rows[into]
    check_scope(actor, case)
    if case.status not in OPEN:
        raise Conflict(f"incident {case_id} is {case.status}; only open cases can be merged", field="id")
    if target.status in ("duplicate", "rejected"):
        raise Conflict(f"incident {into} is {target.status}; merge into the case it points to", field="into")
    r = INCIDENT_REPORTERS.c
    kept = [
        "source",
        "name",
        "phone",
        "email",
        "consent",
        "notify",
        "following",
        "received_at",
        "anonymised_at",
    ]
    copied = ["incident_id", "merged_from", *kept]  # the merged case's reporters are told of the other now
    reporters = select(literal(into), literal(case_id), *(r[k] for k in kept)).where(r.incident_id == case_id)
    conn.execute(insert(INCIDENT_REPORTERS).from_select(copied, reporters))
    merged = {"status": "duplicate", "merged_into": into, "updated_at": func.now()}
    conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == case_id).values(**merged))
    log_event(
        conn, case_id, actor, "merge", case.status, "duplicate", note=f"merged into {into}. {note}".strip()
    )
    log_event(conn, into, actor, "merge", target.status, target.status, note=f"absorbed {case_id}")


def evaluate(
    conn: Connection, case_id: int, satisfied: bool, actor: Actor, note: str = "", by_reporter: bool = False
) -> None:
    """The reporter's evaluation of a closed case (回访): recorded by a dispatcher from a phone
    call, or by the reporter through the visit link (``by_reporter``: the link was checked)."""
    if not by_reporter:
        require_dispatcher(actor, "record evaluations")
    case = locked(conn, case_id)
    if case.status != "closed":
        raise Conflict(f"incident {case_id} is {case.status}; only closed cases are evaluated", field="id")
    if by_reporter and case.satisfied is not None:
        raise Conflict(f"case {case.number} was evaluated already, thank you", field="satisfied")
    conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == case_id).values(satisfied=satisfied))
    log_event(
        conn,
        case_id,
        actor,
        "evaluate",
        "closed",
        "closed",
        note=("满意 " if satisfied else "不满意 ") + note,
    )
