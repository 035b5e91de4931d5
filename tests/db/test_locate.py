"""Point location: the in-process index equals PostGIS ST_Covers, point by point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, Engine, text

from geo.locate import OUTSIDE, Locator
from tests.zoo import ZOO


def test_zoo_agrees_with_postgis_on_a_lattice(conn: Connection) -> None:
    xs, ys = np.meshgrid(np.arange(-0.5, 8.6, 0.25), np.arange(-0.5, 4.6, 0.25))
    x, y = xs.ravel(), ys.ravel()
    got = Locator(ZOO, cell=0.3).locate(x, y)
    wkb = [shapely.to_wkb(g) for g in ZOO]
    rows = conn.execute(
        text(
            "SELECT i, (SELECT min(k) FROM unnest(CAST(:g AS bytea[])) WITH ORDINALITY z(w, k) "
            "WHERE ST_Covers(ST_GeomFromWKB(w), ST_MakePoint(px, py))) "
            "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY u(px, py, i)"
        ),
        {"g": wkb, "x": x.tolist(), "y": y.tolist()},
    ).all()
    expected = np.array([(k - 1 if k is not None else OUTSIDE) for _, k in sorted(rows)])
    assert (got == expected).all()


@pytest.fixture(scope="module")
def micro_grids(engine: Engine, demo: int) -> tuple[list[str], np.ndarray]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, ST_AsBinary(geom) FROM areas WHERE generation = :g AND "
                "level = 'micro_grid' ORDER BY code"
            ),
            {"g": demo},
        ).all()
    return [r[0] for r in rows], shapely.from_wkb([bytes(r[1]) for r in rows])


def _hostile_points(polys: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inside, outside (beyond the district), exactly on vertices, on or a hair off edges."""
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    coords = shapely.get_coordinates(polys)
    k = rng.integers(0, len(coords) - 1, n)
    t = rng.uniform(0, 1, n)
    ex = coords[k, 0] + t * (coords[k + 1, 0] - coords[k, 0])
    ey = coords[k, 1] + t * (coords[k + 1, 1] - coords[k, 1])
    q = n // 4
    x = np.r_[rng.uniform(x0 - 0.02, x1 + 0.02, q), coords[k[:q], 0], ex[:q], ex[q : 2 * q] + 1e-12]
    y = np.r_[rng.uniform(y0 - 0.02, y1 + 0.02, q), coords[k[:q], 1], ey[:q], ey[q : 2 * q] - 1e-12]
    return x, y


def test_100k_points_equal_postgis_st_covers(
    conn: Connection, demo: int, micro_grids: tuple[list[str], np.ndarray]
) -> None:
    codes, polys = micro_grids
    x, y = _hostile_points(polys, 100_000, np.random.default_rng(20241122))
    got = Locator(polys).locate(x, y)
    conn.execute(text("SET LOCAL statement_timeout = 0"))
    rows = conn.execute(
        text(
            "SELECT i, (SELECT min(code) FROM areas a WHERE a.generation = :g AND a.level = 'micro_grid' "
            "AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(px, py), 4326))) "
            "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY u(px, py, i)"
        ),
        {"g": demo, "x": x.tolist(), "y": y.tolist()},
    ).all()
    expected = [code for _, code in sorted(rows)]
    mine = [codes[i] if i >= 0 else None for i in got]
    mismatches = [(x[i], y[i], expected[i], mine[i]) for i in range(len(x)) if expected[i] != mine[i]]
    assert mismatches == []
    assert sum(e is None for e in expected) > 1000  # the outside points were really outside
    assert all(e is not None for e in expected[25_000:50_000])  # every vertex is covered by someone


def test_a_cached_locator_is_mapped_read_only_and_answers_the_same(
    conn: Connection, demo: int, tmp_path: Path
) -> None:
    from layers.grid.index import AreaIndex

    plain = AreaIndex(conn, demo)
    first = AreaIndex(conn, demo, cache=tmp_path)  # built, saved, then mapped
    [folder] = tmp_path.glob("locator-*")
    second = AreaIndex(conn, demo, cache=tmp_path)  # mapped, not built
    assert isinstance(second.locator.pool, np.memmap) and not second.locator.pool.flags.writeable
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = shapely.total_bounds(plain.locator.polygons)
    lon, lat = rng.uniform(x0, x1, 300_000), rng.uniform(y0, y1, 300_000)
    expected = plain.locator.locate(lon, lat)
    assert (first.locator.locate(lon, lat) == expected).all()
    assert (second.locator.locate(lon, lat) == expected).all()
    (folder / "pool.npy").write_bytes(b"not an array")  # a damaged cache is built again
    third = AreaIndex(conn, demo, cache=tmp_path)
    assert (third.locator.locate(lon, lat) == expected).all()
    assert [f.name for f in tmp_path.iterdir()] == [folder.name]
