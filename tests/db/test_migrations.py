"""Models and migrations agree, and the database enforces the hierarchy's rules."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from layers.db.models import metadata


def test_models_match_migrations(conn: Connection) -> None:
    context = MigrationContext.configure(
        conn, opts={"include_object": alembic_helpers.include_object, "compare_type": True}
    )
    assert compare_metadata(context, metadata) == []


_CHECKS = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE contype = 'c' AND connamespace = CAST(:schema AS regnamespace) AND conname LIKE 'ck_%'"
)


def test_models_hold_every_check_constraint_of_the_migrations(conn: Connection) -> None:
    """compare_metadata does not look at CHECK constraints: build the models in a scratch
    schema and let PostgreSQL print both sides' definitions."""
    migrated = {(t, n): d for t, n, d in conn.execute(_CHECKS, {"schema": "public"})}
    conn.execute(text("CREATE SCHEMA models_check"))
    conn.execute(text("SET LOCAL search_path TO models_check, public"))
    metadata.create_all(conn, checkfirst=False)
    modelled = {
        (t.removeprefix("models_check."), n): d
        for t, n, d in conn.execute(_CHECKS, {"schema": "models_check"})
    }
    assert len(migrated) >= 25
    assert modelled == migrated


SQUARE = "ST_Multi(ST_MakeEnvelope(120.3, 36.0, 120.4, 36.1, 4326))"


def _insert(conn: Connection, code: str, level: str, parent: str | None) -> None:
    conn.execute(
        text(
            f"INSERT INTO areas (generation, code, level, name, parent_code, geom) "
            f"VALUES (900, :code, :level, 'x', :parent, {SQUARE})"
        ),
        {"code": code, "level": level, "parent": parent},
    )


@pytest.mark.parametrize(
    ("code", "level", "parent", "constraint"),
    [
        ("3702030051", "street", "3702030", "ck_areas_code_length"),
        ("370204005", "street", "370203", "ck_areas_code_extends_parent"),
        ("37020300A", "street", "370203", "ck_areas_code_digits"),
        ("370203005", "street", None, "ck_areas_root"),
        ("370203005", "county", "370203", "ck_areas_level"),
    ],
)
def test_database_rejects_broken_hierarchy(
    conn: Connection, code: str, level: str, parent: str | None, constraint: str
) -> None:
    conn.execute(text("INSERT INTO generations (id, label) VALUES (900, 't')"))
    _insert(conn, "370203", "district", None)
    with pytest.raises(IntegrityError, match=constraint):
        _insert(conn, code, level, parent)


def test_missing_parent_fails_at_commit(conn: Connection) -> None:
    conn.execute(text("INSERT INTO generations (id, label) VALUES (900, 't')"))
    _insert(conn, "370203005", "street", "370203")  # parent absent: deferred check
    with pytest.raises(IntegrityError, match="fk_areas_generation_parent_code"):
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_area_m2_is_computed_in_metres(conn: Connection) -> None:
    conn.execute(text("INSERT INTO generations (id, label) VALUES (900, 't')"))
    conn.execute(
        text(
            "INSERT INTO areas (generation, code, level, name, geom) VALUES (900, '370203', "
            "'district', 'x', "
            "ST_Multi(ST_Buffer(ST_Point(120.38, 36.08)::geography, 100)::geometry))"
        )
    )
    area = conn.execute(text("SELECT area_m2 FROM areas WHERE generation = 900")).scalar_one()
    assert area == pytest.approx(31_400, rel=0.01)  # π·100² m², not square degrees


def test_only_one_active_generation(conn: Connection) -> None:
    conn.execute(text("UPDATE generations SET status = 'retired'"))
    conn.execute(text("INSERT INTO generations (id, label, status) VALUES (900, 'a', 'active')"))
    with pytest.raises(IntegrityError, match="uq_generations_one_active"):
        conn.execute(text("INSERT INTO generations (id, label, status) VALUES (901, 'b', 'active')"))
