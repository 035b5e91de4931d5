"""Who acts: a signed-in user (name, role, unit) or the public; shared by every layer that checks it."""

from __future__ import annotations

from dataclasses import dataclass

from layers.db.vocabulary import ROLES


@dataclass(frozen=True)
class Actor:
    """A user (name, role, unit) or the public."""

    name: str
    role: str
    unit: str | None = None


PUBLIC = Actor("public", "public")
STAFF = ROLES  # every role is staff; the public has none
