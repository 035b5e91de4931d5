"""Database access for the grid hierarchy: the one place that reads and writes ``areas``.

Generations work as MapIt's do: a new generation is written as a draft, checked,
then activated in one statement; everything located under an older generation keeps
its codes and generation number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Connection, bindparam, text

from geo.errors import Conflict, InvalidInput, NotFound
from layers.db.vocabulary import CODE_LENGTH, LEVELS
from layers.grid.records import AreaRecord

LEVEL_OF_LENGTH = {n: level for level, n in CODE_LENGTH.items()}
COLLECTIONS = {
    "streets": "street",
    "communities": "community",
    "grids": "grid",
    "micro_grids": "micro_grid",
    "districts": "district",
}
PUBLIC_COLUMNS = (
    "code",
    "level",
    "name",
    "parent_code",
    "generation",
    "area_m2",
    "households",
    "population",
    "worker_name",
    "party_branch",
)


def level_of(code: str, field: str = "code") -> str:
    """The level a code belongs to, from its length (6/9/12/15/18 digits).

    >>> level_of("370203005001"), level_of("370203005001003002")
    ('community', 'micro_grid')
    """
    if not code.isdigit() or len(code) not in LEVEL_OF_LENGTH:
        raise InvalidInput(f"{code!r} is not an area code (6, 9, 12, 15 or 18 digits)", field=field)
    return LEVEL_OF_LENGTH[len(code)]


def collection_level(collection: str) -> str:
    """The level a collection id holds (``micro_grids`` → ``micro_grid``).

    >>> collection_level("micro_grids")
    'micro_grid'
    """
    if collection not in COLLECTIONS:
        raise InvalidInput(
            f"unknown collection {collection!r}; use {', '.join(COLLECTIONS)}", field="collection"
        )
    return COLLECTIONS[collection]


# -- generations ----------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationInfo:
    id: int
    label: str
    status: str
    source: str | None


def active_generation(conn: Connection) -> int | None:
    return conn.execute(text("SELECT id FROM generations WHERE status = 'active'")).scalar()


def require_active(conn: Connection) -> int:
    generation = active_generation(conn)
    if generation is None:
        raise NotFound("no grid generation is active: run `wangge demo load` or import one")
    return generation


def list_generations(conn: Connection) -> list[GenerationInfo]:
    rows = conn.execute(text("SELECT id, label, status, source FROM generations ORDER BY id"))
    return [GenerationInfo(*row) for row in rows]


def create_generation(conn: Connection, label: str, source: str, generation: int | None = None) -> int:
    """A new draft generation (the next number unless ``generation`` is given)."""
    if generation is None:
        generation = conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM generations")).scalar_one()
    elif conn.execute(text("SELECT 1 FROM generations WHERE id = :g"), {"g": generation}).first():
        raise Conflict(f"generation {generation} exists already", field="generation")
    conn.execute(
        text("INSERT INTO generations (id, label, source) VALUES (:id, :label, :source)"),
        {"id": generation, "label": label, "source": source},
    )
    return int(generation)


def activate(conn: Connection, generation: int) -> None:
    """Make ``generation`` the live one; the previously active one is retired, atomically."""
    status = conn.execute(text("SELECT status FROM generations WHERE id = :g"), {"g": generation}).scalar()
    if status is None:
        raise NotFound(f"no generation {generation}", field="generation")
    # Two statements in one transaction: other sessions see the switch at commit, all at once,
    # and the one-active unique index never sees two active rows mid-statement.
    conn.execute(
        text("UPDATE generations SET status = 'retired' WHERE status = 'active' AND id <> :g"),
        {"g": generation},
    )
    conn.execute(
        text("UPDATE generations SET status = 'active', activated_at = now() WHERE id = :g"),
        {"g": generation},
    )


def delete_generation(conn: Connection, generation: int) -> None:
    conn.execute(text("DELETE FROM generations WHERE id = :g"), {"g": generation})


def copy_levels(conn: Connection, source: int, target: int, levels: Sequence[str]) -> int:
    """Copy the areas of ``levels`` from one generation to another (e.g. streets above new grids)."""
    result = conn.execute(
        text(
            "INSERT INTO areas (generation, code, level, name, parent_code, geom, households, "
            "population, worker_name, worker_phone, party_branch, properties) "
            "SELECT :t, code, level, name, parent_code, geom, households, population, worker_name, "
            "worker_phone, party_branch, properties FROM areas "
            "WHERE generation = :s AND level IN :levels"
        ).bindparams(bindparam("levels", expanding=True)),
        {"s": source, "t": target, "levels": list(levels)},
    )
    return result.rowcount


# -- writing --------------------------------------------------------------------------

_INSERT = text(
    "INSERT INTO areas (generation, code, level, name, parent_code, geom, households, population, "
    "worker_name, worker_phone, party_branch, properties) VALUES (:generation, :code, :level, "
    ":name, :parent_code, ST_GeomFromWKB(:wkb, 4326), :households, :population, :worker_name, "
    ":worker_phone, :party_branch, CAST(:properties AS jsonb))"
)


def write_areas(conn: Connection, generation: int, records: Iterable[AreaRecord], batch: int = 2000) -> int:
    """Insert ``records`` into ``generation`` in batches; returns the count."""
    rows: list[dict[str, Any]] = []
    count = 0
    for r in records:
        rows.append(
            {
                "generation": generation,
                "code": r.code,
                "level": r.level,
                "name": r.name,
                "parent_code": r.parent_code,
                "wkb": shapely.to_wkb(r.geom),
                "households": r.households,
                "population": r.population,
                "worker_name": r.worker_name,
                "worker_phone": r.worker_phone,
                "party_branch": r.party_branch,
                "properties": json.dumps(r.properties, ensure_ascii=False),
            }
        )
        if len(rows) >= batch:
            conn.execute(_INSERT, rows)
            count += len(rows)
            rows = []
    if rows:
        conn.execute(_INSERT, rows)
        count += len(rows)
    return count


# -- reading ----------------------------------------------------------------------------


def count_by_level(conn: Connection, generation: int) -> dict[str, int]:
    rows = conn.execute(
        text("SELECT level, count(*) FROM areas WHERE generation = :g GROUP BY level"),
        {"g": generation},
    )
    counts: dict[str, int] = dict(rows.all())
    return {level: counts.get(level, 0) for level in LEVELS}


def _feature_select(columns: Sequence[str], out_geom: str) -> str:
    cols = ", ".join(columns)
    return f"SELECT {cols}, {out_geom} AS geojson FROM areas"


def query_features(
    conn: Connection,
    *,
    level: str,
    generation: int,
    bbox: tuple[float, float, float, float] | None,
    parent: str | None,
    limit: int,
    offset: int,
    columns: Sequence[str] = PUBLIC_COLUMNS,
    precision: int = 7,
) -> tuple[list[dict[str, Any]], int]:
    """Features of one level as (GeoJSON-ready dicts, number matched), ordered by code."""
    where = ["generation = :g", "level = :level"]
    params: dict[str, Any] = {
        "g": generation,
        "level": level,
        "limit": limit,
        "offset": offset,
        "precision": precision,
    }
    if bbox is not None:
        where.append("geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        where.append("ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))")
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    if parent is not None:
        where.append("parent_code = :parent")
        params["parent"] = parent
    clause = " AND ".join(where)
    matched = conn.execute(text(f"SELECT count(*) FROM areas WHERE {clause}"), params).scalar_one()
    sql = (
        _feature_select(columns, "ST_AsGeoJSON(geom, :precision)")
        + f" WHERE {clause} ORDER BY code LIMIT :limit OFFSET :offset"
    )
    rows = conn.execute(text(sql), params).mappings().all()
    return [dict(r) for r in rows], int(matched)


def all_features(
    conn: Connection, *, level: str, generation: int, columns: Sequence[str] = PUBLIC_COLUMNS
) -> list[dict[str, Any]]:
    """Every feature of a level (full precision GeoJSON), for exports."""
    sql = _feature_select(columns, "ST_AsGeoJSON(geom, 15)") + " WHERE generation = :g AND level = :level"
    rows = conn.execute(text(sql + " ORDER BY code"), {"g": generation, "level": level}).mappings()
    return [dict(r) for r in rows]


def codes(conn: Connection, generation: int, level: str) -> list[str]:
    rows = conn.execute(
        text("SELECT code FROM areas WHERE generation = :g AND level = :l"), {"g": generation, "l": level}
    )
    return [r[0] for r in rows]


def get_area(
    conn: Connection,
    code: str,
    generation: int,
    *,
    columns: Sequence[str] = PUBLIC_COLUMNS,
    with_geometry: bool = True,
    precision: int = 7,
) -> dict[str, Any]:
    """One area by code in a generation; ``NotFound`` if there is none."""
    level_of(code)
    geom = "ST_AsGeoJSON(geom, :precision)" if with_geometry else "NULL"
    row = (
        conn.execute(
            text(_feature_select(columns, geom) + " WHERE generation = :g AND code = :code"),
            {"g": generation, "code": code, "precision": precision},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no area with code {code} in generation {generation}", field="code")
    return dict(row)


def chain(conn: Connection, code: str, generation: int) -> list[dict[str, str]]:
    """The area's ancestors from the district down, as ``{"code", "name", "level"}``."""
    prefixes = [code[:n] for n in sorted(CODE_LENGTH.values()) if n < len(code)]
    rows = conn.execute(
        text(
            "SELECT code, name, level FROM areas WHERE generation = :g AND code IN :codes "
            "ORDER BY length(code)"
        ).bindparams(bindparam("codes", expanding=True)),
        {"g": generation, "codes": prefixes or [""]},
    )
    return [dict(r) for r in rows.mappings()]


def children(conn: Connection, code: str, generation: int) -> list[dict[str, str]]:
    rows = conn.execute(
        text("SELECT code, name, level FROM areas WHERE generation = :g AND parent_code = :c ORDER BY code"),
        {"g": generation, "c": code},
    )
    return [dict(r) for r in rows.mappings()]
