"""The audit log: who changed what, who read whose personal data (the table refuses edits)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from layers.accounts.actors import Actor


def record(conn: Connection, actor: Actor, action: str, target: str, **detail: Any) -> None:
    """Append one entry, in the caller's transaction (so it stands or falls with the act)."""
    conn.execute(
        text(
            "INSERT INTO audit_log (actor, role, action, target, detail) "
            "VALUES (:a, :r, :act, :t, CAST(:d AS jsonb))"
        ),
        {
            "a": actor.name,
            "r": actor.role,
            "act": action,
            "t": target,
            "d": json.dumps(detail, ensure_ascii=False, default=str),
        },
    )


def entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest entries first, narrowed by actor, action (prefix) and time."""
    return [
        dict(r)
        for r in conn.execute(
            text(
                "SELECT at, actor, role, action, target, detail FROM audit_log "
                "WHERE (CAST(:actor AS text) IS NULL OR actor = :actor) "
                "AND (CAST(:action AS text) IS NULL OR action LIKE :action || '%') "
                "AND (CAST(:since AS timestamptz) IS NULL OR at >= :since) ORDER BY id DESC LIMIT :limit"
            ),
            {"actor": actor, "action": action, "since": since, "limit": limit},
        ).mappings()
    ]
