"""A street's visits (走访) to the firms it is responsible for."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from geo.errors import Forbidden, NotFound
from layers.accounts.actors import Actor
from layers.db.models import ENTERPRISE_VISITS, ENTERPRISES


def record(conn: Connection, credit_code: str, actor: Actor, note: str) -> dict[str, object]:
    """Mark a firm visited by its street: a user of that street office (``unit`` the street's
    code) or an admin; anyone else is refused."""
    e = ENTERPRISES.c
    street = conn.execute(select(e.street).where(e.credit_code == credit_code)).first()
    if street is None:
        raise NotFound(f"no enterprise with credit code {credit_code}", field="credit_code")
    if street[0] is None:
        raise Forbidden(f"{credit_code} is in no street of the district: no street visits it")
    if actor.role != "admin" and actor.unit != street[0]:
        raise Forbidden(f"only {street[0]}'s street office (or an admin) records its visits")
    v = ENTERPRISE_VISITS.c
    visit_id = conn.execute(
        insert(ENTERPRISE_VISITS)
        .values(credit_code=credit_code, street=street[0], note=note.strip(), actor=actor.name)
        .returning(v.id)
    ).scalar_one()
    return {"id": int(visit_id), "credit_code": credit_code, "street": street[0]}
