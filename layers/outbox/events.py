"""Writing to the outbox: in the transaction of the change, so an event exists if and only if
the change committed (no event for a rolled-back change, none lost for a committed one).

Each event is fanned out at once into deliveries, one per receiver: every active webhook
subscribed to its kind, and for case news the reporters who asked to be told (by SMS,
or WeChat for those who came through WeChat, to their phone; by e-mail). A receiver
appears once per event (``UNIQUE (event, target)``), so two reporter rows with one phone
get one message. An event nobody receives is not written.

What reporters hear of (GB/T 30428's steps a resident understands): registered (立案),
dispatched (派遣), closed (结案, then the satisfaction visit 回访) and rejected with the
reason. What webhooks get is the public's view of a case: no names, phones or staff.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from layers.cases import partitions
from layers.db.models import DELIVERIES, INCIDENT_REPORTERS, INCIDENTS, OUTBOX, WEBHOOKS
from layers.db.vocabulary import OPEN, STATUS_NAMES

TOLD = ("registered", "dispatched", "closed", "rejected")  # the steps a reporter is told of
CASES = INCIDENTS.c


_SUBSCRIBED = (
    select(WEBHOOKS.c.id)
    .where(WEBHOOKS.c.active, bindparam("kind", type_=Text) == func.any(WEBHOOKS.c.events))
    .order_by(WEBHOOKS.c.id)
)


def subscribers(conn: Connection, kind: str) -> list[int]:
    """The active webhooks that take events of ``kind``."""
    return list(conn.execute(_SUBSCRIBED, {"kind": kind}).scalars())


def emit(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    incident_id: int | None = None,
    recipients: Sequence[tuple[str, str]] = (),
    subscribed: Sequence[int] | None = None,
) -> int | None:
    """Write one event and its deliveries (webhooks of ``kind``, or the ``subscribed`` ones
    the caller looked up, and ``recipients`` as (channel, address)); answers the event's row
    id, or None when nobody receives it."""
    if subscribed is None:
        subscribed = subscribers(conn, kind)
    if not subscribed and not recipients:
        return None
    written = insert(OUTBOX).values(kind=kind, payload=payload).returning(OUTBOX.c.id)
    event = conn.execute(written).scalar_one()
    rows = [{"channel": "webhook", "target": f"webhook:{h}", "webhook_id": h} for h in subscribed]
    rows += [{"channel": c, "target": a, "webhook_id": None} for c, a in dict.fromkeys(recipients)]
    conn.execute(
        pg_insert(DELIVERIES)
        .values([{**r, "event": event, "incident_id": incident_id} for r in rows])
        .on_conflict_do_nothing(constraint="once")
    )
    return int(event)


def visit_token(secret: str, number: str) -> str:
    """The key of a case's satisfaction visit (回访) link: only the platform can make it.

    >>> visit_token("k", "2026120100001") == visit_token("k", "2026120100001") != visit_token("k", "x")
    True
    """
    return hmac.new(secret.encode(), f"visit:{number}".encode(), hashlib.sha256).hexdigest()[:24]


def public_case(conn: Connection, case_id: int) -> dict[str, Any]:
    """A case as webhooks and reporters get it: the public's fields only (no people, no point)."""
    row = conn.execute(
        select(CASES.id, CASES.number, CASES.category, CASES.status, CASES.source, CASES.street)
        .add_columns(CASES.community, CASES.grid, CASES.unit, CASES.received_at, CASES.deadline)
        .add_columns(CASES.closed_at)
        .where(CASES.id == case_id, CASES.received_at == partitions.received_at(conn, case_id))
    ).mappings().one()  # fmt: skip
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _reporters(conn: Connection, case_id: int) -> list[tuple[str, str]]:
    """(channel, address) of the reporters who asked to be told; WeChat for those who came by it."""
    people = INCIDENT_REPORTERS.c
    found: list[tuple[str, str]] = []
    for r in conn.execute(
        select(people.source, people.phone, people.email)
        .where(people.incident_id == case_id, people.notify, people.anonymised_at.is_(None))
        .order_by(people.id)
    ):
        if r.phone:
            found.append(("wechat" if r.source == "wechat" else "sms", r.phone))
        if r.email:
            found.append(("email", r.email))
    return found


def cases_created(conn: Connection, case_ids: Sequence[int]) -> None:
    """``case.created`` for each new case (the webhooks looked up once for them all)."""
    hooks = subscribers(conn, "case.created")
    for case_id in case_ids if hooks else ():
        said = {"case": public_case(conn, case_id)}
        emit(conn, "case.created", said, incident_id=case_id, subscribed=hooks)


def case_changed(
    conn: Connection, case_id: int, action: str, from_status: str | None, to_status: str | None, note: str
) -> None:
    """The outbox's part of a case event (``layers.cases.intake.log_event`` calls it)."""
    if action == "create":
        cases_created(conn, [case_id])
        return
    if to_status is None or from_status == to_status:
        return
    case = public_case(conn, case_id)
    change = {"case": case, "from": from_status, "to": to_status, "action": action}
    emit(conn, "case.status_changed", change, incident_id=case_id)
    if to_status not in TOLD:
        return
    reporters = _reporters(conn, case_id)
    if not reporters:
        return
    said = {"number": case["number"], "status": to_status, "status_name": STATUS_NAMES[to_status][0],
            "track": f"/track/{case['number']}"}  # fmt: skip
    if to_status == "rejected":
        said["reason"] = note
    emit(conn, "notify.status", said, incident_id=case_id, recipients=reporters)
    if to_status == "closed":  # then how it went (回访): the worker holds it WANGGE_VISIT_AFTER_HOURS
        visit = {"number": case["number"], "track": f"/track/{case['number']}"}
        emit(conn, "notify.visit", visit, incident_id=case_id, recipients=reporters)


def announce_overdue(conn: Connection, limit: int = 500) -> int:
    """``case.overdue`` for open cases whose deadline passed and was not announced yet (a
    deadline moved by an extension is announced again when it passes); answers how many."""
    due = (
        select(CASES.id)
        .where(CASES.status.in_(OPEN), CASES.suspended_at.is_(None), CASES.deadline < func.now())
        .where(CASES.overdue_told.is_distinct_from(CASES.deadline))
        .order_by(CASES.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    told = conn.execute(
        update(INCIDENTS).where(CASES.id.in_(due.scalar_subquery())).values(overdue_told=CASES.deadline)
        .returning(CASES.id)
    ).scalars().all()  # fmt: skip
    for case_id in told:
        emit(conn, "case.overdue", {"case": public_case(conn, case_id)}, incident_id=case_id)
    return len(told)
