"""The units a case may be dispatched or transferred to (the responsibility matrix's candidates).

Its unit and the one-click second unit, the matrix's rules for its area chain, its
category's department and any unit the matrix gives the category elsewhere, and its
territory (grid, community, street). A dispatch or transfer to anyone else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from geo.errors import InvalidInput, NotFound
from layers.cases.categories import Catalogue, unit_name
from layers.db.models import INCIDENTS

CASES = INCIDENTS.c


@dataclass(frozen=True)
class Candidate:
    unit: str
    name: str
    why: str  # current | second | matrix | category | street | community | grid | district


def _units(conn: Connection, catalogue: Catalogue, case_id: int) -> list[tuple[str, str]]:
    """(unit, why) of each candidate, the first reason of each unit, in the order offered."""
    row = conn.execute(
        select(CASES.unit, CASES.second_unit, CASES.category, CASES.street, CASES.community, CASES.grid)
        .add_columns(CASES.micro_grid)
        .where(CASES.id == case_id)
    ).first()
    if row is None:
        raise NotFound(f"no incident {case_id}", field="id")
    chain = [a for a in (row.micro_grid, row.grid, row.community, row.street) if a]
    district = row.street[:6] if row.street else None
    found: list[tuple[str, str]] = [(row.unit, "current")]
    if row.second_unit:
        found.append((row.second_unit, "second"))
    for area in [*chain, *([district] if district else [])]:
        for wanted in (row.category, None):
            unit = catalogue.rules.get((area, wanted))
            if unit:
                found.append((unit, "matrix"))
    category = catalogue.categories.get(row.category)
    if category is not None and category.department:
        found.append((category.department, "category"))
    found += [(unit, "matrix") for (area, wanted), unit in catalogue.rules.items() if wanted == row.category]
    for area, why in ((row.street, "street"), (row.community, "community"), (row.grid, "grid")):
        if area:
            found.append((area, why))
    first: dict[str, str] = {}
    for unit, why in found:
        first.setdefault(unit, why)
    return list(first.items())


def candidates(conn: Connection, catalogue: Catalogue, case_id: int) -> list[Candidate]:
    """The units a case may be dispatched or transferred to, named: its unit and the one-click
    second unit, the matrix's rules for its area chain, its category's department (and any
    unit the matrix gives the category elsewhere), and its territory up to the district."""
    return [
        Candidate(unit, catalogue.departments.get(unit) or unit_name(conn, unit) or unit, why)
        for unit, why in _units(conn, catalogue, case_id)
    ]


def check_candidate(conn: Connection, catalogue: Catalogue, case_id: int, unit: str) -> None:
    """A dispatch or transfer goes to one of the case's candidates (``candidates``), no one else."""
    allowed = [u for u, _ in _units(conn, catalogue, case_id)]  # no names needed to check
    if unit not in allowed:
        raise InvalidInput(
            f"{unit} is not among the units the matrix gives incident {case_id}: " + ", ".join(allowed),
            field="unit",
            code="unit_outside_matrix",
        )
