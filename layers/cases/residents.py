"""What residents do with a case besides filing it: follow one already reported, track it,
answer the satisfaction visit (回访).

Following (「我也遇到了」) adds the resident to an open case as a reporter who joined it
(``following``), told of its progress if they asked, and counts as a repeat report — no
new case. A closed case is not followed (it is done: report anew if it is back), nor a
merged one (the answer names the case to follow instead).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from geo.errors import Conflict
from layers.accounts.actors import Actor
from layers.cases.intake import Reporter, log_event, reporter_row
from layers.cases.workflow import locked
from layers.db.models import INCIDENT_REPORTERS, INCIDENTS
from layers.db.vocabulary import OPEN

CASES = INCIDENTS.c


def follow(conn: Connection, case_id: int, actor: Actor, source: str, reporter: Reporter) -> int:
    """Join an open case as a follower; answers its repeat count."""
    case = locked(conn, case_id)
    if case.status == "duplicate":
        into = conn.execute(select(CASES.number).where(CASES.id == case.merged_into)).scalar_one()
        raise Conflict(f"case {case.number} was merged into case {into}: follow that one", field="id")
    if case.status not in OPEN:
        when = case.closed_at.date().isoformat() if case.closed_at else ""
        raise Conflict(
            f"case {case.number} is {case.status} {when}; if the problem is back, report it anew".replace(
                "  ", " "
            ),
            field="id",
        )
    repeats = int(case.repeats) + 1
    conn.execute(update(INCIDENTS).where(CASES.id == case_id).values(repeats=repeats, updated_at=func.now()))
    conn.execute(
        insert(INCIDENT_REPORTERS).values(
            incident_id=case_id, source=source, following=True, **reporter_row(reporter)
        )
    )
    log_event(
        conn, case_id, actor, "follow", case.status, case.status, note=f"a resident follows (#{repeats})"
    )
    return repeats


def visit_open(case: dict[str, Any]) -> bool:
    """Whether the satisfaction visit of a case waits for an answer."""
    return case["status"] == "closed" and case.get("satisfied") is None
