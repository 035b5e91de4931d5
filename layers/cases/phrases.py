"""Standard texts (常用语) for the notes of actions, per action and for one category or all;
admins edit them. The reference set is in ``layers/reference/phrases.csv``."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select

from geo.errors import InvalidInput, NotFound
from layers.db.models import CATEGORIES, PHRASES

P = PHRASES.c
ACTIONS = (
    "register", "reject", "dispatch", "accept", "return", "report", "close", "rework", "transfer", "merge",
    "urge", "extend", "approve_extension", "refuse_extension", "suspend", "resume", "reopen", "correct",
    "repeat", "evaluate",
)  # fmt: skip


def listing(conn: Connection, action: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
    """The texts for ``action`` (all actions if None), the category's own first, then the general ones."""
    query = select(P.id, P.action, P.category, P.text, P.position)
    if action is not None:
        query = query.where(P.action == action)
    if category is not None:
        query = query.where(or_(P.category == category, P.category.is_(None)))
    query = query.order_by(P.action, P.category.is_(None), P.position, P.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def add(conn: Connection, action: str, text: str, category: str | None = None, position: int = 0) -> int:
    """A new standard text; answers its id."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}: one of {', '.join(ACTIONS)}", field="action")
    if (
        category is not None
        and conn.execute(select(CATEGORIES.c.code).where(CATEGORIES.c.code == category)).first() is None
    ):
        raise InvalidInput(f"unknown category {category!r}", field="category")
    values = {"action": action, "category": category, "text": text.strip(), "position": position}
    return int(conn.execute(insert(PHRASES).values(**values).returning(P.id)).scalar_one())


def remove(conn: Connection, phrase_id: int) -> None:
    if conn.execute(delete(PHRASES).where(P.id == phrase_id)).rowcount == 0:
        raise NotFound(f"no standard text {phrase_id}", field="id")


def load_reference(conn: Connection) -> int:
    """The reference standard texts, once: a table an admin has edited is left as it is."""
    if conn.execute(select(P.id).limit(1)).first() is not None:
        return 0
    with resources.files("layers.reference").joinpath("phrases.csv").open(encoding="utf-8") as handle:
        rows = [
            {"action": r["action"], "category": r["category"] or None, "text": r["text"], "position": i}
            for i, r in enumerate(csv.DictReader(handle))
        ]
    conn.execute(insert(PHRASES), rows)
    return len(rows)
