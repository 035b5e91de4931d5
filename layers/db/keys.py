"""Idempotency keys of actions: the first request under a key takes the action, a replay does not.

The key is taken under a transaction-scoped advisory lock, so two requests racing with one key
wait for each other; it is kept in the action's transaction (a refused action keeps no key).
A key used for another target or by another user is a conflict.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from geo.errors import Conflict
from layers.db.models import ACTION_KEYS

KEYS = ACTION_KEYS.c
NEW = object()  # what ``claim`` answers for a key not seen before


def claim(conn: Connection, key: str, target: str, actor: str) -> Any:
    """``NEW`` when ``key`` is new (now held for this action), else what the first action
    answered (``None`` if it kept no answer)."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 1))))
    seen = conn.execute(select(KEYS.target, KEYS.actor, KEYS.answer).where(KEYS.key == key)).first()
    if seen is None:
        conn.execute(insert(ACTION_KEYS).values(key=key, target=target, actor=actor))
        return NEW
    if (seen.target, seen.actor) != (target, actor):
        raise Conflict("this Idempotency-Key was used for another action", field="Idempotency-Key")
    return seen.answer


def keep(conn: Connection, key: str, answer: dict[str, Any]) -> None:
    """The answer a replay of ``key`` gets."""
    conn.execute(update(ACTION_KEYS).where(KEYS.key == key).values(answer=answer))
