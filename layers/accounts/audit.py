"""The audit log: who changed what, who read whose personal data (the table refuses edits)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from layers.accounts.actors import Actor
from layers.db.models import AUDIT


def entry(actor: Actor, action: str, target: str, **detail: Any) -> dict[str, Any]:
    """One entry's columns (``actor``, ``role``, ``action``, ``target``, ``detail``), for
    ``record`` or for a statement that writes it beside the act (a case's filing)."""
    detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))  # dates etc. as text
    return {"actor": actor.name, "role": actor.role, "action": action, "target": target, "detail": detail}


def record(conn: Connection, actor: Actor, action: str, target: str, **detail: Any) -> None:
    """Append one entry, in the caller's transaction (so it stands or falls with the act)."""
    conn.execute(_ENTRY, entry(actor, action, target, **detail))


def record_many(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Append ``entry`` rows in one statement (the cases of one intake batch)."""
    if entries:
        conn.execute(_ENTRY, entries)


_ENTRY = insert(AUDIT)  # built once: every act writes one


def entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest entries first, narrowed by actor, action (prefix) and time."""
    a = AUDIT.c
    query = select(a.at, a.actor, a.role, a.action, a.target, a.detail).order_by(a.id.desc()).limit(limit)
    if actor is not None:
        query = query.where(a.actor == actor)
    if action is not None:
        query = query.where(a.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(a.at >= since)
    return [dict(r) for r in conn.execute(query).mappings()]
