"""H3 cells as 64-bit integers: points → cells, cells → parents (vectorised), study areas, rings.

Cases store their resolution-``STORED_RES`` cell; every coarser cell is its parent, which is
plain bit arithmetic (the resolution field and the digits below it), done here on numpy
arrays and in SQL by ``parent_sql`` — both checked against ``h3.cell_to_parent`` in tests.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from h3.api import basic_int as h3i
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidInput

STORED_RES = 12
MIN_RES, MAX_RES = 5, 12
Cells = npt.NDArray[np.int64]


def check_res(res: int, field: str = "res") -> int:
    """``res`` if the platform aggregates at it, else ``InvalidInput`` naming ``field``.

    >>> check_res(9)
    9
    """
    if not MIN_RES <= res <= MAX_RES:
        raise InvalidInput(f"H3 resolution {res} is outside {MIN_RES}–{MAX_RES}", field=field)
    return res


def cells(lon: ArrayLike, lat: ArrayLike, res: int = STORED_RES) -> Cells:
    """The cell of each point (WGS84); h3 has no array entry point, so this loops (0.5 µs a point)."""
    lons, lats = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.fromiter(
        (h3i.latlng_to_cell(y, x, res) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)),
        dtype=np.int64,
        count=lons.size,
    )


def parents(children: ArrayLike, res: int) -> Cells:
    """The ancestors at ``res`` of cells finer than or at ``res`` (bit arithmetic, vectorised)."""
    c = np.asarray(children, dtype=np.int64)
    return (c & ~np.int64(15 << 52)) | np.int64(res << 52) | np.int64((1 << (3 * (15 - res))) - 1)


def parent_sql(column: str, res: int) -> str:
    """The same arithmetic as ``parents`` as a SQL expression over a bigint column."""
    res = check_res(res)
    return (
        f"(({column} & {~(15 << 52)}::bigint) | {res << 52}::bigint | {(1 << (3 * (15 - res))) - 1}::bigint)"
    )


def to_hex(cell: int) -> str:
    """The cell's usual hexadecimal name.

    >>> to_hex(0x8C30E1D5B1A1DFF)
    '8c30e1d5b1a1dff'
    """
    return str(h3i.int_to_str(int(cell)))


def cover(area: BaseGeometry, res: int) -> Cells:
    """The cells whose centres fall in ``area`` (a WGS84 (multi)polygon), sorted."""
    shape = h3i.geo_to_h3shape(area.__geo_interface__)
    return np.sort(np.fromiter(h3i.h3shape_to_cells(shape, res), dtype=np.int64))


def ring_weights(study: Cells, k: int = 1) -> sp.csr_matrix:
    """Binary weights: cell i neighbours cell j when j is within ``k`` rings of i (itself included).

    Cells outside ``study`` are not neighbours: the study area's edge is its edge.
    """
    position = {int(c): i for i, c in enumerate(study.tolist())}
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(study.tolist()):
        for n in h3i.grid_disk(c, k):
            j = position.get(n)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=float)
    return sp.csr_matrix((data, (rows, cols)), shape=(study.size, study.size))


def boundaries(cells_: ArrayLike) -> list[list[list[float]]]:
    """Each cell's boundary as a closed GeoJSON ring of [lon, lat]."""
    rings = []
    for c in np.asarray(cells_, dtype=np.int64).tolist():
        ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3i.cell_to_boundary(c)]
        rings.append([*ring, ring[0]])
    return rings
