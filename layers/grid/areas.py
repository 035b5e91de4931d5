"""Database access for the grid hierarchy: the one place that reads and writes ``areas``.

Generations work as MapIt's do: a new generation is written as a draft, checked,
then activated in one statement; everything located under an older generation keeps
its codes and generation number.

SQL: Core over ``AREAS``/``GENERATIONS``; only the bulk insert of areas stays written out
(executemany over row dicts, geometries built from WKB in the database).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import Connection, Select, delete, func, insert, literal, null, select, text, update

from geo.errors import Conflict, InvalidGeometry, InvalidInput, NotFound
from geo.snapping import snap_coverage
from layers.db import sql
from layers.db.models import AREAS, GENERATIONS
from layers.db.vocabulary import CODE_LENGTH, LEVELS


@dataclass
class AreaRecord:
    """One area of the hierarchy, ready to be written (geometry in WGS84)."""

    code: str
    level: str
    name: str
    parent_code: str | None
    geom: MultiPolygon
    households: int | None = None
    population: int | None = None
    worker_name: str | None = None
    worker_phone: str | None = None
    party_branch: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


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


G = GENERATIONS.c


def active_generation(conn: Connection) -> int | None:
    """The id of the active generation (None before one is loaded)."""
    return conn.execute(select(G.id).where(G.status == "active")).scalar()


def require_active(conn: Connection) -> int:
    """The id of the active generation; ``NotFound`` (with what to do) when there is none."""
    generation = active_generation(conn)
    if generation is None:
        raise NotFound("no grid generation is active: run `wangge demo load` or import one")
    return generation


def list_generations(conn: Connection) -> list[GenerationInfo]:
    """Every generation, oldest first."""
    rows = conn.execute(select(G.id, G.label, G.status, G.source).order_by(G.id))
    return [GenerationInfo(*row) for row in rows]


def create_generation(conn: Connection, label: str, source: str, generation: int | None = None) -> int:
    """A new draft generation (the next number unless ``generation`` is given)."""
    if generation is None:
        generation = conn.execute(select(func.coalesce(func.max(G.id), 0) + 1)).scalar_one()
    elif conn.execute(select(G.id).where(G.id == generation)).first():
        raise Conflict(f"generation {generation} exists already", field="generation")
    conn.execute(insert(GENERATIONS).values(id=generation, label=label, source=source))
    return int(generation)


def activate(conn: Connection, generation: int) -> None:
    """Make ``generation`` the live one; the previously active one is retired, atomically."""
    status = conn.execute(select(G.status).where(G.id == generation)).scalar()
    if status is None:
        raise NotFound(f"no generation {generation}", field="generation")
    # Two statements in one transaction: other sessions see the switch at commit, all at once,
    # and the one-active unique index never sees two active rows mid-statement.
    conn.execute(update(GENERATIONS).where(G.status == "active", G.id != generation).values(status="retired"))
    conn.execute(
        update(GENERATIONS).where(G.id == generation).values(status="active", activated_at=func.now())
    )


def delete_generation(conn: Connection, generation: int) -> None:
    """Delete a generation and (by cascade) its areas."""
    conn.execute(delete(GENERATIONS).where(G.id == generation))


def copy_levels(
    conn: Connection, source: int, target: int, levels: Sequence[str], except_under: str | None = None
) -> int:
    """Copy the areas of ``levels`` from one generation to another (e.g. streets above new grids),
    leaving out the district ``except_under`` and everything in it (when it is replaced)."""
    copied = ["code", "level", "name", "parent_code", "geom", "households", "population"]
    copied += ["worker_name", "worker_phone", "party_branch", "properties"]
    rows = select(literal(target), *(AREAS.c[c] for c in copied)).where(
        AREAS.c.generation == source, AREAS.c.level.in_(list(levels))
    )
    if except_under is not None:
        rows = rows.where(AREAS.c.code.not_like(f"{except_under}%"))
    result = conn.execute(insert(AREAS).from_select(["generation", *copied], rows))
    return result.rowcount


# -- writing --------------------------------------------------------------------------

_INSERT = text(
    "INSERT INTO areas (generation, code, level, name, parent_code, geom, households, population, "
    "worker_name, worker_phone, party_branch, properties) VALUES (:generation, :code, :level, "
    ":name, :parent_code, ST_GeomFromWKB(:wkb, 4326), :households, :population, :worker_name, "
    ":worker_phone, :party_branch, CAST(:properties AS jsonb))"
)


def at_served_precision(records: Iterable[AreaRecord]) -> list[AreaRecord]:
    """The records with their geometries on the 1e-7° grid they are served at, each level snapped
    as one coverage (:func:`geo.snapping.snap_coverage`): what is stored is what a GIS user gets."""
    records = list(records)
    by_level: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_level.setdefault(r.level, []).append(i)
    out = list(records)
    for indexes in by_level.values():
        snapped = snap_coverage([records[i].geom for i in indexes])
        for i, geom in zip(indexes, snapped, strict=True):
            if geom.is_empty:
                raise InvalidGeometry(
                    f"{records[i].code}: narrower than 1 cm everywhere; nothing is left at 7 decimals"
                )
            out[i] = replace(records[i], geom=geom)
    return out


def write_areas(conn: Connection, generation: int, records: Iterable[AreaRecord], batch: int = 2000) -> int:
    """Insert ``records`` into ``generation`` in batches, at served precision; returns the count."""
    rows: list[dict[str, Any]] = []
    count = 0
    for r in at_served_precision(records):
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


def count_by_level(conn: Connection, generation: int, under: str | None = None) -> dict[str, int]:
    """How many areas of each level the generation holds (in the area ``under``, if given)."""
    query = (
        select(AREAS.c.level, func.count()).where(AREAS.c.generation == generation).group_by(AREAS.c.level)
    )
    if under is not None:
        query = query.where(AREAS.c.code.like(f"{under}%"))
    counts: dict[str, int] = {level: int(n) for level, n in conn.execute(query)}
    return {level: counts.get(level, 0) for level in LEVELS}


def _feature_select(columns: Sequence[str], precision: int | None) -> Select[Any]:
    """The named area columns and the geometry as GeoJSON (``None``: no geometry)."""
    geometry = func.ST_AsGeoJSON(AREAS.c.geom, precision) if precision is not None else null()
    return select(*(AREAS.c[c] for c in columns), geometry.label("geojson"))


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
    district: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Features of one level (in ``district``, if given) as (GeoJSON-ready dicts, number matched),
    ordered by code."""
    where = [AREAS.c.generation == generation, AREAS.c.level == level]
    if district is not None:
        where.append(AREAS.c.code.like(f"{district}%"))
    if bbox is not None:
        where.append(sql.bbox_filter(AREAS.c.geom, bbox))
    if parent is not None:
        where.append(AREAS.c.parent_code == parent)
    matched = conn.execute(select(func.count()).select_from(AREAS).where(*where)).scalar_one()
    query = (
        _feature_select(columns, precision).where(*where).order_by(AREAS.c.code).limit(limit).offset(offset)
    )
    return [dict(r) for r in conn.execute(query).mappings()], int(matched)


def all_features(
    conn: Connection, *, level: str, generation: int, columns: Sequence[str] = PUBLIC_COLUMNS
) -> list[dict[str, Any]]:
    """Every feature of a level (full precision GeoJSON), for exports."""
    query = (
        _feature_select(columns, 15)
        .where(AREAS.c.generation == generation, AREAS.c.level == level)
        .order_by(AREAS.c.code)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def codes(conn: Connection, generation: int, level: str) -> list[str]:
    """The codes of one level of a generation."""
    query = select(AREAS.c.code).where(AREAS.c.generation == generation, AREAS.c.level == level)
    return list(conn.execute(query).scalars())


def names(conn: Connection, generation: int, level: str) -> list[dict[str, str]]:
    """Code and name of each area of one level of a generation, by code (pickers in pages)."""
    query = select(AREAS.c.code, AREAS.c.name).where(AREAS.c.generation == generation, AREAS.c.level == level)
    return [dict(r) for r in conn.execute(query.order_by(AREAS.c.code)).mappings()]


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
    query = _feature_select(columns, precision if with_geometry else None)
    row = conn.execute(query.where(AREAS.c.generation == generation, AREAS.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no area with code {code} in generation {generation}", field="code")
    return dict(row)


def chain(conn: Connection, code: str, generation: int) -> list[dict[str, str]]:
    """The area's ancestors from the district down, as ``{"code", "name", "level"}``."""
    prefixes = [code[:n] for n in sorted(CODE_LENGTH.values()) if n < len(code)]
    query = (
        select(AREAS.c.code, AREAS.c.name, AREAS.c.level)
        .where(AREAS.c.generation == generation, AREAS.c.code.in_(prefixes))
        .order_by(func.length(AREAS.c.code))
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def children(conn: Connection, code: str, generation: int) -> list[dict[str, str]]:
    """The areas directly below ``code``, by code."""
    query = (
        select(AREAS.c.code, AREAS.c.name, AREAS.c.level)
        .where(AREAS.c.generation == generation, AREAS.c.parent_code == code)
        .order_by(AREAS.c.code)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def extent(conn: Connection, level: str, generation: int) -> list[float] | None:
    """The bounding box of a level of a generation (None when it has no areas)."""
    return sql.extent(conn, AREAS.c.geom, AREAS.c.generation == generation, AREAS.c.level == level)
