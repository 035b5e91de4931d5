"""The daily push (新注册（注销）企业信息提醒): the previous day's register changes — new
registrations, moves in and out, deregistrations and revocations — split by the street
responsible for each firm (its operating address's, or its registered one's when it operates
outside the district) and by industry department (``enterprise_departments``: the longest
GB/T 4754 prefix, and the departments that look after its 2+6 chain), stored as one digest
per recipient and day, and told through the outbox (``enterprise.digest`` webhooks).

Made once a day by the worker (``wangge worker``, each morning for the day before) and by
``wangge enterprises digest --date D``: a digest made again adds only changes not yet pushed
(a recipient is told of a change once, whatever day it is pushed: ``UNIQUE (recipient,
event)``), so a rerun or a late import never pushes a firm twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo.errors import InvalidInput, NotFound
from layers.cases import worktime
from layers.db import sql
from layers.db.models import (
    AREAS,
    ENTERPRISE_DEPARTMENTS,
    ENTERPRISE_DIGEST_ITEMS,
    ENTERPRISE_DIGESTS,
    ENTERPRISE_EVENTS,
    ENTERPRISE_VISITS,
    ENTERPRISES,
    INDUSTRIES,
)
from layers.db.vocabulary import ENTERPRISE_EVENT_NAMES, RECIPIENT_KINDS
from layers.enterprises import industries, registrars
from layers.outbox import events as outbox

E, EV, D, DI = ENTERPRISES.c, ENTERPRISE_EVENTS.c, ENTERPRISE_DIGESTS.c, ENTERPRISE_DIGEST_ITEMS.c
PUSH_AT = time(7, 0)  # Beijing: the worker makes yesterday's digests from this hour on


@dataclass(frozen=True)
class Made:
    day: date
    digests: int  # recipients with anything that day
    records: int  # items pushed now (a rerun: only the new ones)
    events: int  # the day's register changes


def check_day(day: date, today: date) -> None:
    """A day's digest is made once the day is over: today's or a later one is refused."""
    if day >= today:
        raise InvalidInput(
            f"no digest for {day.isoformat()}: a day's changes are pushed the morning after "
            f"(the latest is {(today - timedelta(days=1)).isoformat()})",
            field="date",
        )


def departments(conn: Connection) -> list[industries.Department]:
    """The departments as the district keeps them (the table; the defaults when empty)."""
    d = ENTERPRISE_DEPARTMENTS.c
    rows = conn.execute(select(d.code, d.name, d.industries, d.labels).order_by(d.code)).all()
    if not rows:
        return industries.departments()
    return [industries.Department(c, n, tuple(i), tuple(lb)) for c, n, i, lb in rows]


def make(conn: Connection, day: date, today: date) -> Made:
    """Make (or complete) the digests of ``day``; in the caller's transaction."""
    check_day(day, today)
    changes = conn.execute(
        select(EV.id, EV.kind, E.credit_code, E.name, E.industry, E.label, E.street, E.registrar_level)
        .join(ENTERPRISES, E.credit_code == EV.credit_code)
        .where(EV.on == day)
        .order_by(EV.id)
    ).all()
    table = departments(conn)
    by_recipient: dict[tuple[str, str], list[Any]] = {}
    for change in changes:
        if change.street is not None:
            by_recipient.setdefault(("street", change.street), []).append(change)
        for code in industries.departments_of(change.industry, change.label, table):
            by_recipient.setdefault(("department", code), []).append(change)
    records = 0
    for (kind, recipient), items in sorted(by_recipient.items()):
        digest_id = conn.execute(
            pg_insert(ENTERPRISE_DIGESTS)
            .values(day=day, recipient_kind=kind, recipient=recipient, records=0)
            .on_conflict_do_update(constraint="uq_enterprise_digests_day_recipient_kind_recipient",
                                   set_={"recipient": recipient})
            .returning(D.id)
        ).scalar_one()  # fmt: skip
        added = conn.execute(
            pg_insert(ENTERPRISE_DIGEST_ITEMS)
            .values([
                {"digest_id": digest_id, "event_id": c.id, "recipient_kind": kind, "recipient": recipient}
                for c in items
            ])
            .on_conflict_do_nothing()
            .returning(DI.event_id)
        ).scalars().all()  # fmt: skip
        if not added:
            continue
        records += len(added)
        total = conn.execute(select(func.count()).where(DI.digest_id == digest_id)).scalar_one()
        told = {int(e) for e in added}
        payload = {
            "day": day.isoformat(), "recipient_kind": kind, "recipient": recipient, "records": len(told),
            "items": [
                {"credit_code": c.credit_code, "name": c.name, "change": c.kind, "street": c.street,
                 "registrar_level": c.registrar_level}
                for c in items if c.id in told
            ],
        }  # fmt: skip
        event = outbox.emit(conn, "enterprise.digest", payload)
        conn.execute(
            ENTERPRISE_DIGESTS.update()
            .where(D.id == digest_id)
            .values(records=total, outbox_id=func.coalesce(event, D.outbox_id))
        )
    return Made(day, len(by_recipient), records, len(changes))


def due(conn: Connection, now: datetime) -> date | None:
    """The day whose digests the worker should make now: yesterday (Beijing), from 07:00,
    if no digest of it exists yet (a day without changes has none, and is tried again
    harmlessly: nothing new is pushed)."""
    local = now.astimezone(worktime.BEIJING)
    if local.time() < PUSH_AT:
        return None
    yesterday = local.date() - timedelta(days=1)
    made = conn.execute(select(D.id).where(D.day == yesterday).limit(1)).first()
    return None if made is not None else yesterday


def recipients(conn: Connection) -> dict[tuple[str, str], str]:
    """Every recipient's name: the district's streets and the departments."""
    a = AREAS.c
    streets = conn.execute(
        select(a.code, a.name).where(a.generation == sql.active_generation(), a.level == "street")
    ).all()
    out = {("street", code): name for code, name in streets}
    out.update({("department", d.code): d.name for d in departments(conn)})
    return out


def of_day(conn: Connection, day: date, today: date, only: tuple[str, str] | None = None) -> dict[str, Any]:
    """The digests of ``day`` (or of one recipient), each with its firms and their changes."""
    check_day(day, today)
    names = recipients(conn)
    where = [D.day == day]
    if only is not None:
        if only[0] not in RECIPIENT_KINDS or only not in names:
            raise NotFound(f"no recipient {only[0]} {only[1]}", field="recipient")
        where += [D.recipient_kind == only[0], D.recipient == only[1]]
    digests = conn.execute(
        select(D.id, D.recipient_kind, D.recipient, D.records, D.created_at)
        .where(*where)
        .order_by(D.recipient_kind.desc(), D.recipient)
    ).all()
    v = ENTERPRISE_VISITS.c
    visit_day = func.date(func.timezone(worktime.BEIJING.key, v.at))
    visited = (  # the firm's street's latest visit since the change: a done item on reopening
        select(func.max(visit_day))
        .where(v.credit_code == E.credit_code, v.street == E.street, visit_day >= EV.on)
        .scalar_subquery()
    )
    items = conn.execute(
        select(DI.digest_id, EV.kind, EV.on, E.credit_code, E.name, E.industry, E.label, E.street, E.status)
        .add_columns(INDUSTRIES.c.name.label("industry_name"), E.op_address, E.reg_address)
        .add_columns(E.registrar, E.registrar_level)
        .add_columns(visited.label("visited_on"))
        .join(ENTERPRISE_EVENTS, EV.id == DI.event_id)
        .join(ENTERPRISES, E.credit_code == EV.credit_code)
        .join(INDUSTRIES, INDUSTRIES.c.code == E.industry)
        .where(DI.digest_id.in_([d.id for d in digests]))
        .order_by(DI.digest_id, EV.kind, E.credit_code)
    ).mappings()
    by_digest: dict[int, list[dict[str, Any]]] = {}
    for r in items:
        row = {k: v for k, v in r.items() if k != "digest_id"}
        row["change_name"] = ENTERPRISE_EVENT_NAMES[row["kind"]][0]
        row["street_name"] = names.get(("street", row["street"] or ""))
        row["registrar_name"] = registrars.name_of(row["registrar"], row["registrar_level"])
        by_digest.setdefault(r["digest_id"], []).append(row)
    return {
        "day": day.isoformat(),
        "digests": [
            {
                "recipient_kind": d.recipient_kind, "recipient": d.recipient,
                "name": names.get((d.recipient_kind, d.recipient)), "records": d.records,
                "levels": dict(Counter(i["registrar_level"] for i in by_digest.get(d.id, []))),
                "made_at": d.created_at, "items": by_digest.get(d.id, []),
            }
            for d in digests
        ],
    }  # fmt: skip


def totals(conn: Connection) -> dict[str, int]:
    """Pushes and records since launch (the cockpit's counter)."""
    pushes = conn.execute(select(func.count()).select_from(ENTERPRISE_DIGESTS)).scalar_one()
    records = conn.execute(select(func.count()).select_from(ENTERPRISE_DIGEST_ITEMS)).scalar_one()
    return {"pushes": int(pushes), "records": int(records)}
