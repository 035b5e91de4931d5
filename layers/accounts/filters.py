"""A user's saved filters of the case workbench: a name and the list's query string."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert

from geo.errors import InvalidInput, NotFound
from layers.db.models import SAVED_FILTERS

SAVED = SAVED_FILTERS.c
MAX_PER_USER = 50


def listing(conn: Connection, user: str) -> list[dict[str, Any]]:
    query = select(SAVED.name, SAVED.query).where(SAVED.user_name == user).order_by(SAVED.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def save(conn: Connection, user: str, name: str, query: str) -> None:
    """Save (or replace) the filter ``name`` of ``user``."""
    count = conn.execute(select(SAVED.name).where(SAVED.user_name == user, SAVED.name != name)).all()
    if len(count) >= MAX_PER_USER:
        raise InvalidInput(f"at most {MAX_PER_USER} saved filters per user; delete one first", field="name")
    conn.execute(
        insert(SAVED_FILTERS)
        .values(user_name=user, name=name, query=query)
        .on_conflict_do_update(index_elements=[SAVED.user_name, SAVED.name], set_={"query": query})
    )


def remove(conn: Connection, user: str, name: str) -> None:
    done = conn.execute(delete(SAVED_FILTERS).where(SAVED.user_name == user, SAVED.name == name))
    if done.rowcount == 0:
        raise NotFound(f"no saved filter {name!r}", field="name")
