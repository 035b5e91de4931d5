"""Delivering the outbox: lease what is due, send it, record how it went.

A delivery is leased (``sending``, with a lease time) in one short transaction, sent
outside any transaction, and its result recorded in another. If recording fails because
the database is away, the worker keeps the result and records it when the database is
back, so a PostgreSQL restart makes nothing be sent twice; a worker that dies between
sending and recording leaves the lease to run out, and the delivery is sent again with
the same event id (receivers deduplicate by it: at least once, exactly once to a
receiver that keeps the ids it has seen).

Failures back off exponentially (30 s × 2^attempts, at most an hour); after
``max_attempts`` a delivery is ``failed``. A webhook that fails ``pause_after`` times in
a row is paused: its deliveries wait, nothing is sent to it, until an admin resumes it.
Messages for a channel without a configured sender are ``held``, visible to admins, and
sent once a sender is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from layers.db.models import DELIVERIES, OUTBOX, WEBHOOKS

D, E, W = DELIVERIES.c, OUTBOX.c, WEBHOOKS.c
LEASE_S = 120


@dataclass(frozen=True)
class Due:
    """A leased delivery with what to send."""

    id: int
    channel: str
    target: str
    attempts: int
    webhook_id: int | None
    url: str | None
    secret: str | None
    event_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    incident_id: int | None = None


@dataclass(frozen=True)
class Result:
    """How one sending went: ``ok``; else ``held`` (no sender) or an error with its HTTP status."""

    id: int
    ok: bool
    status: int | None = None
    error: str | None = None
    held: bool = False
    skipped: bool = False  # not tried: an earlier one to the same receiver failed in this round


def lease(conn: Connection, limit: int, visit_after_h: float) -> list[Due]:
    """Take up to ``limit`` due deliveries (pending and due, or sending with a lapsed lease),
    skipping those other workers hold and those of paused webhooks; oldest first."""
    visit_due = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, visit_after_h * 3600)
    due = (
        select(D.id)
        .join(OUTBOX, E.id == D.event)
        .outerjoin(WEBHOOKS, W.id == D.webhook_id)
        .where(
            or_(
                and_(D.state == "pending", D.next_at <= func.now()),
                and_(D.state == "sending", D.leased_until < func.now()),
            ),
            or_(D.webhook_id.is_(None), and_(W.active, W.paused_at.is_(None))),
            or_(E.kind != "notify.visit", E.created_at <= visit_due),
        )
        .order_by(D.id)
        .limit(limit)
        .with_for_update(of=DELIVERIES, skip_locked=True)
    )
    taken = conn.execute(
        update(DELIVERIES)
        .where(D.id.in_(due.scalar_subquery()))
        .values(state="sending", attempts=D.attempts + 1,
                leased_until=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, LEASE_S))
        .returning(D.id)
    ).scalars().all()  # fmt: skip
    if not taken:
        return []
    rows = conn.execute(
        select(D.id, D.channel, D.target, D.attempts, D.webhook_id, W.url, W.secret)
        .add_columns(E.event_id, E.kind, E.payload, E.created_at, D.incident_id)
        .join(OUTBOX, E.id == D.event)
        .outerjoin(WEBHOOKS, W.id == D.webhook_id)
        .where(D.id.in_(taken))
        .order_by(D.id)
    )
    return [Due(**r._mapping) for r in rows]


def record(conn: Connection, done: Sequence[Result], max_attempts: int, pause_after: int) -> None:
    """Store the results of one round; webhooks' failure counts follow, and pause when due."""
    if not done:
        return
    sent = [r.id for r in done if r.ok]
    if sent:
        conn.execute(
            update(DELIVERIES).where(D.id.in_(sent), D.state == "sending")
            .values(state="sent", sent_at=func.now(), leased_until=None, last_status=None, last_error=None)
        )  # fmt: skip
        for r in done:
            if r.ok and r.status is not None:
                conn.execute(update(DELIVERIES).where(D.id == r.id).values(last_status=r.status))
    skipped = [r.id for r in done if r.skipped]
    if skipped:  # back in line, as they were
        conn.execute(
            update(DELIVERIES)
            .where(D.id.in_(skipped))
            .values(state="pending", attempts=D.attempts - 1, leased_until=None)
        )
    held = [r.id for r in done if r.held]
    if held:
        conn.execute(
            update(DELIVERIES).where(D.id.in_(held))
            .values(state="held", attempts=D.attempts - 1, leased_until=None, last_error="no sender set up")
        )  # fmt: skip
    for r in done:
        if r.ok or r.held or r.skipped:
            continue
        backoff = func.least(3600, 30 * func.power(2, func.least(D.attempts - 1, 7)))
        conn.execute(
            update(DELIVERIES).where(D.id == r.id, D.state == "sending").values(
                state=case((D.attempts >= max_attempts, "failed"), else_="pending"),
                next_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, backoff),
                leased_until=None, last_status=r.status, last_error=(r.error or "")[:500],
            )
        )  # fmt: skip
    _webhook_health(conn, done, pause_after)


def _webhook_health(conn: Connection, done: Sequence[Result], pause_after: int) -> None:
    ids = [r.id for r in done if not (r.held or r.skipped)]
    hooks = dict(
        conn.execute(select(D.id, D.webhook_id).where(D.id.in_(ids), D.webhook_id.is_not(None))).all()
    )
    for r in done:
        hook = hooks.get(r.id)
        if hook is None:
            continue
        if r.ok:
            conn.execute(update(WEBHOOKS).where(W.id == hook).values(failures=0))
        else:
            conn.execute(
                update(WEBHOOKS).where(W.id == hook).values(
                    failures=W.failures + 1,
                    paused_at=case((W.failures + 1 >= pause_after, func.coalesce(W.paused_at, func.now())),
                                   else_=W.paused_at),
                )
            )  # fmt: skip


def release_held(conn: Connection, channels: Sequence[str]) -> int:
    """Held messages of channels that now have a sender go out; answers how many."""
    if not channels:
        return 0
    done = conn.execute(
        update(DELIVERIES).where(D.state == "held", D.channel.in_(channels))
        .values(state="pending", next_at=func.now(), last_error=None)
    )  # fmt: skip
    return done.rowcount or 0


def in_order(due: Sequence[Due]) -> list[list[Due]]:
    """The leased deliveries in lines that must keep their order: a reporter's messages, and one
    case's events to one endpoint (lines go out side by side, each line in order)."""
    lines: dict[tuple[str, int | None], list[Due]] = {}
    for d in due:
        lines.setdefault((d.target, d.incident_id if d.channel == "webhook" else None), []).append(d)
    return list(lines.values())


def listing(
    conn: Connection,
    *,
    state: str | None = None,
    channel: str | None = None,
    incident_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Deliveries newest first with their events (admins: they name recipients); and how many."""
    where = [c for c in (
        D.state == state if state else None, D.channel == channel if channel else None,
        D.incident_id == incident_id if incident_id is not None else None,
    ) if c is not None]  # fmt: skip
    total = conn.execute(select(func.count()).select_from(DELIVERIES).where(*where)).scalar_one()
    rows = conn.execute(
        select(D.id, E.event_id, E.kind, D.channel, D.target, D.state, D.attempts, D.next_at, D.sent_at)
        .add_columns(D.last_status, D.last_error, D.incident_id, E.payload)
        .join(OUTBOX, E.id == D.event)
        .where(*where)
        .order_by(D.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)
