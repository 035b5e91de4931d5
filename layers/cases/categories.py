"""Case categories, departments and the responsibility matrix: data, read and edited here.

A category names its kind (event 事件 / component 部件), who gets it first (the
territory or the owner), its default department, its time limit (hours, working or
natural) and whether machines (camera AI) may report it. Departments are the
district's units; a street's own office is its area code. The matrix says, for an
area at any level (and optionally one category), which unit is responsible.

SQL: reads are Core over the mapped tables; the seeding inserts stay written out
(``ON CONFLICT`` upserts from the reference CSVs, run once per load) beside the unit-name
lookup that falls back from departments to the newest area name.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from cachetools import LRUCache
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, select, text, update

from geo.errors import InvalidInput, NotFound
from layers.db.models import CATEGORIES, DEPARTMENTS, LAYER_VERSIONS, RESPONSIBILITIES


@dataclass(frozen=True)
class Category:
    """One case category as stored."""

    code: str
    name: str
    name_en: str
    kind: str
    first: str
    department: str | None
    asset_kind: str | None
    deadline_hours: float
    working_time: bool
    machine: bool
    source: str
    active: bool
    max_extension_hours: float | None = None
    duplicate_m: float = 50.0  # another case of this category this near and this recent is likely the same
    duplicate_hours: float = 72.0

    @property
    def extension_limit(self) -> float:
        """The longest extension (延期) a unit may be granted: the setting, else the category's limit."""
        return self.max_extension_hours if self.max_extension_hours is not None else self.deadline_hours


@dataclass(frozen=True)
class Catalogue:
    """A snapshot of the routing data (small tables), shared by the requests that read it: not
    to be changed."""

    categories: dict[str, Category]
    departments: dict[str, str]  # code → name
    rules: dict[tuple[str, str | None], str]  # (area code, category or None) → unit

    def category(self, code: str, field: str = "category") -> Category:
        found = self.categories.get(code)
        if found is None or not found.active:
            known = ", ".join(sorted(c for c, v in self.categories.items() if v.active))
            raise InvalidInput(f"unknown category {code!r}; known: {known}", field=field)
        return found


def load(conn: Connection) -> Catalogue:
    """The categories, departments and matrix as they are now (as this transaction sees them).

    Kept in memory per database and change counter: one small read a request. The counter is
    bumped once a transaction by triggers on the three tables (migration 0024), with that
    transaction's id; a transaction's own uncommitted edits are read afresh and not kept (its
    counter would not move again for a second edit), and a rolled-back bump is never seen again.
    """
    seen = conn.execute(_COUNTER).first()
    if seen is None or (seen.bumped_in is not None and seen.bumped_in == seen.me):
        return _read(conn)
    key = (str(conn.engine.url), seen.version, seen.bumped_in)
    with _KEPT_LOCK:
        found = _KEPT.get(key)
    if found is None:
        found = _read(conn)
        with _KEPT_LOCK:
            _KEPT[key] = found
    return found


_COUNTER = select(
    LAYER_VERSIONS.c.version, LAYER_VERSIONS.c.bumped_in, func.txid_current_if_assigned().label("me")
).where(LAYER_VERSIONS.c.layer == "catalogue")
_KEPT: LRUCache[tuple[str, int, int | None], Catalogue] = LRUCache(maxsize=16)
_KEPT_LOCK = threading.Lock()


def _read(conn: Connection) -> Catalogue:
    categories = {}
    for r in conn.execute(select(CATEGORIES).order_by(CATEGORIES.c.code)).mappings():
        extension = r["max_extension_hours"]
        categories[r["code"]] = Category(**{
            **r, "deadline_hours": float(r["deadline_hours"]),
            "max_extension_hours": None if extension is None else float(extension),
        })  # fmt: skip
    departments: dict[str, str] = {
        code: name for code, name in conn.execute(select(DEPARTMENTS.c.code, DEPARTMENTS.c.name))
    }
    matrix = RESPONSIBILITIES.c
    rules = {
        (r.area_code, r.category): r.unit
        for r in conn.execute(select(matrix.area_code, matrix.category, matrix.unit))
    }
    return Catalogue(categories, departments, rules)


def as_json(catalogue: Catalogue) -> dict[str, list[dict[str, object]]]:
    """The categories and departments as ``GET /api/categories`` answers them (pages embed it too)."""
    return {
        "categories": [c.__dict__ for c in catalogue.categories.values()],
        "departments": [{"code": k, "name": v} for k, v in sorted(catalogue.departments.items())],
    }


def unit_name(conn: Connection, code: str) -> str | None:
    """A department's name, or a territorial unit's (its area's) name."""
    return conn.execute(
        text(
            "SELECT name FROM departments WHERE code = :c UNION ALL "
            "(SELECT name FROM areas WHERE code = :c ORDER BY generation DESC LIMIT 1) LIMIT 1"
        ),
        {"c": code},
    ).scalar_one_or_none()


def _reference_rows(name: str) -> list[dict[str, str]]:
    with resources.files("layers.reference").joinpath(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_reference(conn: Connection) -> int:
    """The district's departments (with its street offices) and default categories, if missing."""
    rows = _reference_rows("departments.csv")
    conn.execute(
        text(
            "INSERT INTO departments (code, name, kind) VALUES (:code, :name, :kind) ON CONFLICT DO NOTHING"
        ),
        rows,
    )
    conn.execute(
        text(
            "INSERT INTO departments (code, name, kind) SELECT code, name || '办事处', 'street' FROM areas "
            "WHERE level = 'street' AND generation = (SELECT id FROM generations WHERE status = 'active') "
            "ON CONFLICT DO NOTHING"
        )
    )
    categories = [
        {
            **r,
            "department": r["department"] or None,
            "asset_kind": r["asset_kind"] or None,
            "deadline_hours": Decimal(r["deadline_hours"]),
            "working_time": r["working_time"] == "true",
            "machine": r["machine"] == "true",
            "duplicate_m": float(r["duplicate_m"]),
            "duplicate_hours": float(r["duplicate_hours"]),
        }
        for r in _reference_rows("categories.csv")
    ]
    conn.execute(
        text(
            "INSERT INTO categories (code, name, name_en, kind, first, department, asset_kind, "
            "deadline_hours, working_time, machine, source, duplicate_m, duplicate_hours) "
            "VALUES (:code, :name, :name_en, :kind, :first, :department, :asset_kind, :deadline_hours, "
            ":working_time, :machine, :source, :duplicate_m, :duplicate_hours) ON CONFLICT DO NOTHING"
        ),
        categories,
    )
    return len(categories)


def set_rule(conn: Connection, area_code: str, category: str | None, unit: str, escalation: str = "") -> None:
    """Make ``unit`` responsible for ``category`` (or every category) in ``area_code``."""
    if not conn.execute(
        text(
            "SELECT 1 FROM departments WHERE code = :u UNION ALL SELECT 1 FROM areas WHERE code = :u LIMIT 1"
        ),
        {"u": unit},
    ).first():
        raise InvalidInput(f"unknown unit {unit!r}", field="unit")
    conn.execute(
        text(
            "INSERT INTO responsibilities (area_code, category, unit, escalation) VALUES (:a, :c, :u, :e) "
            "ON CONFLICT ON CONSTRAINT uq_responsibilities_area_category "
            "DO UPDATE SET unit = EXCLUDED.unit, escalation = EXCLUDED.escalation"
        ),
        {"a": area_code, "c": category, "u": unit, "e": escalation},
    )


class CategoryUpdate(BaseModel):
    """What an admin may change of a category."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=50)
    name_en: str | None = Field(default=None, min_length=1, max_length=80)
    department: str | None = Field(default=None, min_length=1, max_length=20)
    deadline_hours: float | None = Field(default=None, gt=0, le=24 * 365)
    working_time: bool | None = None
    active: bool | None = None
    max_extension_hours: float | None = Field(default=None, gt=0, le=24 * 365)
    duplicate_m: float | None = Field(default=None, gt=0, le=5000, description="Likely duplicates: within.")
    duplicate_hours: float | None = Field(default=None, gt=0, le=24 * 365, description="…and hours.")


def update_category(conn: Connection, code: str, change: CategoryUpdate) -> Category:
    """Apply an admin's change to a category and answer it as stored."""
    values = change.model_dump(exclude_none=True)
    if "department" in values and values["department"] not in load(conn).departments:
        raise InvalidInput(f"unknown department {values['department']!r}", field="department")
    if values:
        done = conn.execute(update(CATEGORIES).where(CATEGORIES.c.code == code).values(**values))
        if done.rowcount == 0:
            raise NotFound(f"no category {code}", field="code")
    found = load(conn).categories.get(code)
    if found is None:
        raise NotFound(f"no category {code}", field="code")
    return found
