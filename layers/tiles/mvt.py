"""Mapbox Vector Tiles of the grid levels and the assets, made by PostGIS (``ST_AsMVT``).

Each tileset reads a pre-projected Web Mercator column (``geom_3857``/``point_3857``,
migration 0011) through its GiST index, so a tile costs one index scan, the clip and the
encoding. Polygons are simplified to half a screen pixel of their zoom first
(visually lossless, and smaller tiles). Properties are public ones only: no phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.errors import InvalidInput

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
WORLD_M = 40_075_016.685578488  # Web Mercator's width in metres
PARKING_GEOM = "ST_Transform(coalesce(site, point), 3857)"  # the site where drawn, else the entrance


@dataclass(frozen=True)
class Tileset:
    """One ``/tiles/{name}`` collection: its rows, properties, zoom range and version key."""

    name: str
    layer: str  # the ``layer_versions`` counter that invalidates its cached tiles
    columns: str
    source: str  # FROM … WHERE …, with :gen and the tile envelope ``env``
    geom: str
    minzoom: int
    polygons: bool = True


def _area(level: str, minzoom: int, columns: str = "code, name") -> Tileset:
    return Tileset(
        name=f"{level}s" if level != "community" else "communities",
        layer="areas",
        columns=columns,
        # polygons that touch the tile itself (their outline runs on into the buffer); points also
        # from the buffer, so that a marker on a tile edge is drawn whole by both tiles
        source=f"areas WHERE generation = :gen AND level = '{level}' AND geom_3857 && env.tile",
        geom="geom_3857",
        minzoom=minzoom,
    )


TILESETS: dict[str, Tileset] = {
    t.name: t
    for t in (
        _area("street", 0),
        _area("community", 10),
        _area("grid", 12, "code, name, worker_name AS worker"),
        _area("micro_grid", 12),
        Tileset(
            name="manhole_covers",
            layer="assets",
            columns="id, subclass, attributes->>'status' AS status",
            source="assets WHERE kind = 'manhole_cover' AND point_3857 && env.margin",
            geom="point_3857",
            minzoom=15,
            polygons=False,
        ),
        Tileset(
            name="parking",
            layer="assets",
            columns=(
                "id, name, attributes->>'status' AS status, (attributes->>'spaces')::int AS spaces, "
                "(attributes->>'ev_spaces')::int AS ev_spaces"
            ),
            source=f"assets WHERE kind = 'parking' AND {PARKING_GEOM} && env.margin",
            geom=PARKING_GEOM,
            minzoom=11,
        ),
        _area("district", 0),  # the city's districts, drawn above their streets
    )
}


def check_tile(z: int, x: int, y: int) -> None:
    """A tile address of the Web Mercator quad tree, or ``InvalidInput`` naming what is wrong."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom {z} is outside 0–{MAX_ZOOM}", field="z")
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < 2**z:
            raise InvalidInput(f"{name}={value} is outside 0–{2**z - 1} at zoom {z}", field=name)


def simplify_tolerance_m(z: int) -> float:
    """Half a screen pixel (256 px tiles) in Web Mercator metres at zoom ``z``."""
    return WORLD_M / (256 * 2**z) / 2


def _sql(tileset: Tileset) -> str:
    # Hand-written because it is the measured hot path (docs/benchmarks.md): ST_AsMVT over
    # a subquery whose shape the planner must see as it is. Every name in it comes from the
    # TILESETS constants above, never from a request; every value is bound.
    # No "WHERE geom IS NOT NULL": PostgreSQL pushes it into the subquery and computes
    # ST_AsMVTGeom twice per row; ST_AsMVT skips the NULLs (features clipped away) itself.
    geom = tileset.geom
    if tileset.polygons:
        geom = f"ST_Simplify({geom}, :tol, true)"
    return (
        "WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS tile, "  # noqa: S608 (constants, see above)
        f"ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}) AS margin) "
        f"SELECT ST_AsMVT(t, :name, {EXTENT}, 'geom') FROM ("
        f"SELECT {tileset.columns}, ST_AsMVTGeom({geom}, env.tile, {EXTENT}, {BUFFER}, true) AS geom "
        f"FROM env, {tileset.source}) t"
    )


def render(conn: Connection, tileset: Tileset, z: int, x: int, y: int, generation: int) -> bytes:
    """The tile's bytes (empty when nothing is in it or the zoom is below the tileset's)."""
    if z < tileset.minzoom:
        return b""
    params = {"z": z, "x": x, "y": y, "gen": generation, "name": tileset.name, "tol": simplify_tolerance_m(z)}
    tile = conn.execute(text(_sql(tileset)), params).scalar_one()
    return bytes(tile) if tile else b""


def versions(conn: Connection) -> tuple[int | None, dict[str, int]]:
    """The active generation and each layer's change counter, in one round trip."""
    row = conn.execute(
        text(
            "SELECT (SELECT id FROM generations WHERE status = 'active'), "
            "(SELECT json_object_agg(layer, version) FROM layer_versions)"
        )
    ).one()
    return row[0], dict(row[1])
