"""Point location on the zoo: shells, holes, shared edges and vertices, multipolygons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.errors import InvalidGeometry
from geo.locate import OUTSIDE, Locator, _rings, _segment_cells, _touched_cells, covers_pairs
from tests.zoo import ZOO


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.5, 0.5, 0),
        (1.5, 1.5, OUTSIDE),  # inside the shell / inside the hole
        (1.0, 1.5, 0),
        (2.0, 2.0, 0),  # on the hole's edge and corner: covered
        (4.0, 1.0, 0),  # shared edge of 0 and 1: the first wins
        (4.0, 2.0, 0),
        (5.0, 2.0, 1),  # shared vertex of all three / edge of 1 and 2
        (7.5, 0.5, 1),
        (6.5, 0.5, OUTSIDE),  # second part of the multipolygon / between parts
        (4.5, 3.4, 2),
        (5.5, 3.0, OUTSIDE),
        (9, 9, OUTSIDE),
        (-1e-12, 2, OUTSIDE),
    ],
)
def test_zoo(x: float, y: float, expected: int) -> None:
    locator = Locator(ZOO, cell=0.25)
    assert locator.locate(np.array([x]), np.array([y])).tolist() == [expected]


def test_covers_pairs_matches_shapely_off_the_boundary() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 9, 5000), rng.uniform(-1, 5, 5000)
    poly = rng.integers(0, 3, 5000)
    got = covers_pairs(_rings(ZOO), x, y, poly)
    assert (got == shapely.intersects_xy(np.array(ZOO, dtype=object)[poly], x, y)).all()


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_tiles_of_any_size_answer_as_one_tile(bits: int) -> None:
    rng = np.random.default_rng(5)
    gx, gy = np.meshgrid(np.arange(-1, 9, 0.125), np.arange(-1, 5, 0.125))  # on edges and vertices too
    x, y = np.r_[rng.uniform(-1, 9, 20_000), gx.ravel()], np.r_[rng.uniform(-1, 5, 20_000), gy.ravel()]
    whole = Locator(ZOO, cell=0.25, tile_bits=12)  # one tile: the raster kept whole
    tiled = Locator(ZOO, cell=0.25, tile_bits=bits)
    assert (tiled.locate(x, y) == whole.locate(x, y)).all()
    assert (tiled.tile_offset < 0).any()  # some tiles are one value and hold no cells ...
    assert tiled.pool.size < whole.pool.size  # ... so the tiles hold fewer cells than the raster


def _first_covering(polygons: list[shapely.Geometry], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """What the locator must answer, by shapely: the first polygon that covers each point, or -1."""
    point, poly = shapely.STRtree(polygons).query(shapely.points(x, y), predicate="intersects")
    out = np.full(len(x), OUTSIDE)
    for p, g in sorted(zip(point.tolist(), poly.tolist(), strict=True), reverse=True):
        out[p] = g
    return out


def _cells(polygons: list[shapely.Geometry]) -> tuple[Locator, np.ndarray, np.ndarray]:
    """A locator of ``polygons`` and points all over them: random ones, their vertices, their
    segments' midpoints."""
    loc = Locator(polygons, cell=0.25)
    rng = np.random.default_rng(9)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    xy = shapely.get_coordinates(polygons)
    x = np.r_[rng.uniform(x0 - 1, x1 + 1, 20_000), xy[:, 0], (xy[1:, 0] + xy[:-1, 0]) / 2]
    y = np.r_[rng.uniform(y0 - 1, y1 + 1, 20_000), xy[:, 1], (xy[1:, 1] + xy[:-1, 1]) / 2]
    return loc, x, y


def test_no_cell_a_boundary_passes_through_is_taken_for_one_polygon() -> None:
    # Irregular cells with edges at every angle: a Voronoi tiling of random points.
    rng = np.random.default_rng(4)
    sites = shapely.multipoints(rng.uniform(0, 20, (60, 2)))
    tiles = [t & shapely.box(0, 0, 20, 20) for t in shapely.get_parts(shapely.voronoi_polygons(sites))]
    loc, x, y = _cells(tiles)
    ny, nx = loc.shape
    touched = _touched_cells(
        loc.rings,
        loc.x0,
        loc.y0,
        loc.dx,
        loc.dy,
        nx,
        (0, ny),
        _segment_cells(loc.rings, loc.x0, loc.y0, loc.dx, loc.dy, loc.shape),
    )
    r, c = np.divmod(np.arange(nx * ny), nx)
    boxes = shapely.box(
        loc.x0 + c * loc.dx, loc.y0 + r * loc.dy, loc.x0 + (c + 1) * loc.dx, loc.y0 + (r + 1) * loc.dy
    )
    edges = shapely.union_all(shapely.boundary(tiles))
    crossed = shapely.intersects(boxes, edges).reshape(ny, nx)
    near = shapely.dwithin(boxes, edges, 1e-8).reshape(ny, nx)  # the margin is 1e-9 (2e-9 for rows)
    assert (touched | ~crossed).all()  # every cell a boundary meets is left to the exact test ...
    assert (near | ~touched).all()  # ... and none that no boundary comes near
    assert crossed.sum() > 1000
    assert (loc.locate(x, y) == _first_covering(tiles, x, y)).all()


def test_a_tile_of_more_than_256_values_is_cut_smaller() -> None:
    squares = [shapely.box(i, j, i + 0.75, j + 0.75) for i in range(20) for j in range(20)]  # 400 in one tile
    loc, x, y = _cells(squares)
    assert loc.bits == 6  # 256 and 128 cells a side held all 400; 64 (16 × 13 squares) fewer than 256
    assert (loc.locate(x, y) == _first_covering(squares, x, y)).all()


def test_an_index_saved_in_another_format_is_not_read(tmp_path: Path) -> None:
    loc = Locator(ZOO, cell=0.25)
    loc.save(tmp_path / "index")
    meta = tmp_path / "index" / "locator.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "format": 1}))
    with pytest.raises(InvalidGeometry, match="format 1"):
        Locator.load(tmp_path / "index", ZOO)


def test_bands_built_side_by_side_make_the_index_one_thread_makes() -> None:
    rng = np.random.default_rng(6)
    sites = shapely.multipoints(rng.uniform(0, 20, (80, 2)))
    tiles = [t & shapely.box(0, 0, 20, 20) for t in shapely.get_parts(shapely.voronoi_polygons(sites))]
    one = Locator(tiles, cell=0.1, tile_bits=4, threads=1)  # 16 bands of tiles
    many = Locator(tiles, cell=0.1, tile_bits=4, threads=4)
    for name in ("tile_value", "tile_offset", "pool", "palette", "palette_start", "mixed_cells", "candidates",
                 "candidate_start"):  # fmt: skip
        assert np.array_equal(getattr(one, name), getattr(many, name)), name
