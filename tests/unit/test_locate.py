"""Point location on the zoo: shells, holes, shared edges and vertices, multipolygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.locate import OUTSIDE, Locator, _rings, covers_pairs
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
