"""Checks that a generation's hierarchy tiles exactly: ``wangge layers check`` and every import.

Each check runs in PostGIS over the whole generation (set-based, index-assisted) and
yields one :class:`Problem` per offending area, naming its code and the reason.
Areas are compared in square metres on the spheroid (``geography``). The tolerance
is a share of the parent's area (0.01 % by default), so floating-point noise at
shared edges is not reported but a real gap, overlap or stray child is.

SQL: hand-written, PostGIS-heavy checks (ST_Difference/ST_Union areas on geography,
self-joins for overlaps) whose plans matter on 7,000 micro-grids; every value is bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

TOLERANCE = 1e-4  # 0.01 % of the parent's area
_NEXT_LEVEL = {"district": "street", "street": "community", "community": "grid", "grid": "micro_grid"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one area (or one input row, when ``row`` is set)."""

    code: str | None
    reason: str
    row: int | None = None

    def __str__(self) -> str:
        if self.row is None and self.code is None:
            return self.reason  # about the whole file
        where = f"row {self.row}" if self.row is not None else self.code
        return f"{where}: {self.reason}"


# Children that reach outside their parent, by more than the tolerance of the child's area.
_OUTSIDE = """
SELECT c.code, ST_Area(ST_Difference(c.geom, p.geom)::geography) AS outside_m2, c.area_m2
FROM areas c JOIN areas p ON p.generation = c.generation AND p.code = c.parent_code
WHERE c.generation = :g AND NOT ST_Covers(p.geom, c.geom)
"""

# Parents whose children's areas do not add up to the parent's (gaps, or missing children).
_COVERAGE = """
SELECT p.code, p.level, p.area_m2, coalesce(sum(c.area_m2), 0) AS children_m2, count(c.code) AS n
FROM areas p LEFT JOIN areas c ON c.generation = p.generation AND c.parent_code = p.code
WHERE p.generation = :g AND p.level <> 'micro_grid'
GROUP BY p.code, p.level, p.area_m2
"""

# Siblings that overlap by more than the tolerance (the && pre-filter uses the GiST index);
# districts are siblings too (a city's districts have no parent in the table).
_OVERLAPS = """
SELECT a.code, b.code AS other, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2,
       least(a.area_m2, b.area_m2) AS smaller_m2
FROM areas a JOIN areas b
  ON b.generation = a.generation AND {siblings} AND a.code < b.code
 AND a.geom && b.geom AND ST_Overlaps(a.geom, b.geom)
WHERE a.generation = :g
"""
_SIBLINGS = ("b.parent_code = a.parent_code", "a.level = 'district' AND b.level = 'district'")


def check_generation(conn: Connection, generation: int, tolerance: float = TOLERANCE) -> list[Problem]:
    """Every nesting, coverage and overlap problem of ``generation`` (empty when it tiles)."""
    problems: list[Problem] = []
    for code, outside, area in conn.execute(text(_OUTSIDE), {"g": generation}):
        if outside > tolerance * max(area, 1.0):
            problems.append(Problem(code, f"lies {outside:.1f} m² outside its parent"))
    present = {  # (district, level): a district imported down to its grids alone is complete
        (row[0], row[1])
        for row in conn.execute(
            text("SELECT DISTINCT left(code, 6), level FROM areas WHERE generation = :g"), {"g": generation}
        )
    }
    for code, level, area, children_m2, n in conn.execute(text(_COVERAGE), {"g": generation}):
        child_level = _NEXT_LEVEL[level]
        if n == 0:
            if (code[:6], child_level) in present:
                problems.append(Problem(code, f"has no {child_level.replace('_', '-')}s"))
            continue
        gap = area - children_m2
        if abs(gap) > tolerance * area:
            share = children_m2 / area * 100 if area else 0.0
            problems.append(
                Problem(code, f"its {n} children cover {share:.3f}% of it ({gap:+.1f} m² unaccounted)")
            )
    for siblings in _SIBLINGS:
        for code, other, m2, smaller in conn.execute(
            text(_OVERLAPS.format(siblings=siblings)), {"g": generation}
        ):
            if m2 > tolerance * max(smaller, 1.0):
                problems.append(Problem(code, f"overlaps its sibling {other} by {m2:.1f} m²"))
    return problems
