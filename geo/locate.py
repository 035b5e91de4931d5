"""Point → polygon location that always agrees with PostGIS ``ST_Covers``.

A :class:`Locator` is built once per worker from the polygons of a tiling (the
micro-grids of the active generation) and answers millions of points per second:

1. A lon/lat raster (a few metres per cell) stores, for every cell that no polygon
   boundary touches, the one polygon whose interior holds it (or "outside"). The
   cells a boundary touches are found exactly, segment by segment, with a small
   safety margin; the rest are labelled by connected components, one lookup each.
2. Points in boundary cells fall back to an exact test: the cell's candidate polygons
   (found once at build time: every polygon whose box meets the cell), then PostGIS's
   own point-in-ring algorithm (Dan Sunday's winding
   number, ``determineSide`` in plain doubles, ``side == 0`` plus the segment's box
   for "on the boundary") reimplemented in numpy, so that points on or a hair off an
   edge get the answer PostGIS gives, not merely a close one.

Shared edges and vertices: a point that several polygons cover (it lies on their
common boundary) belongs to the one that comes first in the input order — the
lowest code when built from codes in order. ``Locator.locate`` therefore equals
``min(code) WHERE ST_Covers(geom, point)``.

Points covered by no polygon are ``-1`` (the nearest polygon, in metres, is the
caller's business: see ``layers.index``).

A built index is plain arrays: :meth:`Locator.save` writes them as ``.npy`` files and
:meth:`Locator.load` maps them read-only, so the workers of one machine share one copy in the
page cache and a worker that starts after the first build loads in well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from geo import parallel
from geo.errors import InvalidGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Polygons = Sequence[BaseGeometry] | npt.NDArray[np.object_]
Spans = tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]
A = TypeVar("A", bound=np.generic)
OUTSIDE = -1
MIXED = -2
_MARGIN = 1e-9  # degrees (~0.1 mm): cells this close to a segment count as touched
FORMAT = 2  # of a saved index: 2 = 8-bit cells and candidates in each tile's own list of values


def _ranges(start: npt.NDArray[np.integer[Any]], count: npt.NDArray[np.integer[Any]]) -> IntArray:
    """The ranges ``start[i] .. start[i] + count[i] - 1`` end to end.

    >>> _ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    firsts = np.cumsum(count) - count
    out: IntArray = np.arange(int(count.sum())) - np.repeat(firsts - start, count)
    return out


def _run_starts(flat: npt.NDArray[Any]) -> IntArray:
    """Where each run of equal values in ``flat`` starts.

    >>> _run_starts(np.array([7, 7, 3, 3, 3, 7])).tolist()
    [0, 2, 5]
    """
    return np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])


@dataclass(frozen=True)
class _Rings:
    """Every ring of every polygon as flat arrays (the numpy point-in-ring input).

    The coordinates ring after ring, and each segment as where it starts in them.
    """

    x: FloatArray
    y: FloatArray
    seg_at: npt.NDArray[np.int32]  # each segment's first coordinate (the next is its end)
    seg_ring: npt.NDArray[np.int32]  # ring of each segment
    ring_hole: npt.NDArray[np.bool_]
    ring_part: IntArray  # polygon part of each ring (global)
    live: npt.NDArray[np.bool_]  # False for zero-length segments, which PostGIS ignores
    poly_seg_start: IntArray  # first segment of each polygon
    poly_seg_count: IntArray

    def ends(self, seg: npt.NDArray[np.integer[Any]] | None = None) -> tuple[FloatArray, ...]:
        """(x1, y1, x2, y2) of the segments ``seg`` (all of them if None)."""
        at = self.seg_at if seg is None else self.seg_at[seg]
        return self.x[at], self.y[at], self.x[at + 1], self.y[at + 1]


def _rings(polygons: Polygons) -> _Rings:
    """The segments of every ring, in input order.

    Polygons, their parts, each part's shell then its holes (shapely's order), each ring's
    coordinates: all of them in three vectorised calls.
    """
    parts, part_poly = shapely.get_parts(polygons, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    del parts, rings  # freed before the arrays are made, so that these can take their memory
    if len(coords) >= np.iinfo(np.int32).max:
        raise InvalidGeometry(f"{len(coords):,} coordinates: more than a 32-bit index holds")
    within = np.flatnonzero(coord_ring[:-1] == coord_ring[1:])  # a segment: two coordinates of one ring
    x, y = coords[:, 0].copy(), coords[:, 1].copy()
    del coords
    seg_ring = coord_ring[within].astype(np.int32)
    poly_count = np.bincount(part_poly[ring_part[seg_ring]], minlength=len(polygons)).astype(np.int64)
    return _Rings(
        x=x,
        y=y,
        seg_at=within.astype(np.int32),
        seg_ring=seg_ring,
        live=~((x[within] == x[within + 1]) & (y[within] == y[within + 1])),
        ring_hole=np.r_[False, ring_part[1:] == ring_part[:-1]] if len(ring_part) else np.zeros(0, bool),
        ring_part=ring_part.astype(np.int64),
        poly_seg_start=np.cumsum(poly_count) - poly_count,
        poly_seg_count=poly_count,
    )


def covers_pairs(
    rings: _Rings, px: FloatArray, py: FloatArray, poly: npt.NDArray[np.integer[Any]]
) -> npt.NDArray[np.bool_]:
    """For each pair (point ``k``, polygon ``poly[k]``), whether the polygon covers the point.

    PostGIS's ``point_in_multipolygon`` in numpy: per ring a winding number from
    ``determineSide``, 0 = on the ring (exact ``side == 0`` within the segment's box),
    then parts with holes. Same doubles, same operations, same answers.
    """
    if len(poly) == 0:
        return np.zeros(0, dtype=bool)
    counts = rings.poly_seg_count[poly]
    pair = np.repeat(np.arange(len(poly)), counts)
    seg = _ranges(rings.poly_seg_start[poly], counts)
    x1, y1, x2, y2 = rings.ends(seg)
    x, y = px[pair], py[pair]
    side = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
    live = rings.live[seg]
    on = np.zeros(len(seg), dtype=bool)
    zero = np.flatnonzero(live & (side == 0.0))  # rare: only these need the segment's box
    if len(zero):
        a1, a2, b1, b2, px_, py_ = x1[zero], x2[zero], y1[zero], y2[zero], x[zero], y[zero]
        on[zero] = (
            ~(np.maximum(a1, a2) < px_)
            & ~(np.minimum(a1, a2) > px_)
            & ~(np.maximum(b1, b2) < py_)
            & ~(np.minimum(b1, b2) > py_)
        )
    up = live & (y1 <= y) & (y < y2) & (side > 0)
    down = live & (y2 <= y) & (y < y1) & (side < 0)
    winding = up.astype(np.int64) - down.astype(np.int64)
    # One row per (pair, ring): segments of a ring are contiguous, rings of a polygon too.
    ring = rings.seg_ring[seg]
    starts = np.flatnonzero(np.r_[True, (ring[1:] != ring[:-1]) | (pair[1:] != pair[:-1])])
    ring_on = np.maximum.reduceat(on.astype(np.int8), starts) > 0
    ring_wn = np.add.reduceat(winding, starts)
    ring_pair = pair[starts]
    ring_id = ring[starts]
    result = np.where(ring_on, 0, np.where(ring_wn != 0, 1, -1))  # -1 out, 0 boundary, 1 in
    hole = rings.ring_hole[ring_id]
    part = rings.ring_part[ring_id]
    # A part covers the point if its shell does (inside or on it) and no hole strictly holds it;
    # the point on a hole's edge is on the boundary, so covered.
    key = ring_pair * (rings.ring_part.max() + 1) + part
    in_hole = np.zeros(len(result), dtype=bool)
    hole_hit = hole & (result == 1)
    if hole_hit.any():
        bad = np.unique(key[hole_hit])
        in_hole = np.isin(key, bad)
    shell = ~hole
    covered_part = shell & ((result == 0) | ((result == 1) & ~in_hole))
    hole_edge = hole & (result == 0)
    out = np.zeros(len(poly), dtype=bool)
    out[ring_pair[covered_part | hole_edge]] = True
    return out


def _segment_cells(
    rings: _Rings, x0: float, y0: float, dx: float, dy: float, shape: tuple[int, int]
) -> Spans:
    """Each segment's range of columns and rows (its box widened by the margin, clipped)."""
    ny, nx = shape
    x1, y1, x2, y2 = rings.ends()

    def cells(at: FloatArray, origin: float, size: float, count: int) -> npt.NDArray[np.int32]:
        return np.clip(np.floor((at - origin) / size), 0, count - 1).astype(np.int32)

    return (
        cells(np.minimum(x1, x2) - _MARGIN, x0, dx, nx),
        cells(np.maximum(x1, x2) + _MARGIN, x0, dx, nx),
        cells(np.minimum(y1, y2) - _MARGIN, y0, dy, ny),
        cells(np.maximum(y1, y2) + _MARGIN, y0, dy, ny),
    )


def _touched_cells(
    rings: _Rings,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    nx: int,
    rows: tuple[int, int],
    spans: Spans,
) -> npt.NDArray[np.bool_]:
    """The cells of raster rows ``rows`` that any segment passes through or comes within a margin of.

    Column by column of each segment's span, the rows its stretch in the column reaches. Cells
    are closed and widened by the margin; the rows by twice it, so that rounding (~1e-16 of a
    degree) can only add a cell, never miss one.
    """
    lo, hi = rows
    c0, c1, r0, r1 = spans
    touched = np.zeros((hi - lo, nx), dtype=bool)
    here = np.flatnonzero((r0 < hi) & (r1 >= lo))
    first, last = np.maximum(r0[here], lo), np.minimum(r1[here], hi - 1)
    width = c1[here] - c0[here] + 1
    for at in range(0, len(here), 20_000):  # bounded memory: 20k segments at a time
        s = slice(at, at + 20_000)
        cnt = width[s]
        pick = np.repeat(np.arange(at, at + len(cnt)), cnt)  # one row per (segment, column)
        col = _ranges(c0[here[s]], cnt)
        seg = here[pick]
        ax, ay, bx, by = rings.ends(seg)
        ex, ey = bx - ax, by - ay
        xa = np.maximum(np.minimum(ax, bx), x0 + col * dx - _MARGIN)
        xb = np.minimum(np.maximum(ax, bx), x0 + (col + 1) * dx + _MARGIN)
        slope = np.divide(ey, ex, out=np.zeros_like(ey), where=ex != 0)
        ya, yb = ay + (xa - ax) * slope, ay + (xb - ax) * slope
        upright = ex == 0  # a vertical segment's stretch is all of it
        ya[upright], yb[upright] = ay[upright], by[upright]
        ylo = np.maximum(np.minimum(ya, yb), np.minimum(ay, by))
        yhi = np.minimum(np.maximum(ya, yb), np.maximum(ay, by))
        top = np.minimum(np.floor((yhi + 2 * _MARGIN - y0) / dy).astype(np.int64), last[pick])
        bottom = np.maximum(np.floor((ylo - 2 * _MARGIN - y0) / dy).astype(np.int64), first[pick])
        rows_n = np.maximum(top - bottom + 1, 0)
        touched[_ranges(bottom - lo, rows_n), np.repeat(col, rows_n)] = True
    return touched


@dataclass(frozen=True)
class _Band:
    """One band of tiles as built on its own, before it is placed in the index."""

    uniform: IntArray  # the tiles one value fills
    value: npt.NDArray[np.int32]  # ... that value
    dense: IntArray  # the other tiles
    cells: npt.NDArray[np.uint8]  # their cells, tile after tile: indices into the tile's values
    palette: npt.NDArray[np.int32]  # the values of each tile (polygons, OUTSIDE, MIXED), tile after tile
    listed: IntArray  # how many values each tile has
    mixed: npt.NDArray[np.integer[Any]]  # the band's boundary cells (flat raster indices)
    candidates: npt.NDArray[np.uint8]  # their candidate polygons (in the tile's values), lowest first
    counts: npt.NDArray[np.int32]  # how many each cell has


def _joined(pieces: list[npt.NDArray[A]]) -> npt.NDArray[A]:
    """The pieces end to end, ``pieces`` left empty.

    Each piece is let go of once copied, so that the pieces are not held twice.
    """
    out = np.empty(sum(len(p) for p in pieces), dtype=pieces[0].dtype)  # pages taken as written
    at = 0
    pieces.reverse()
    while pieces:
        piece = pieces.pop()
        out[at : at + len(piece)] = piece
        at += len(piece)
    return out


class _Crowded(Exception):
    """A tile holds more values than an 8-bit index tells apart."""


_HELD = ("tile_value", "tile_offset", "pool", "palette", "palette_start", "mixed_cells", "candidates",
         "candidate_start")  # fmt: skip
_SCALARS = ("dx", "dy", "x0", "y0", "bits", "tiles_x", "mixed_share")


class Locator:
    """An in-process index answering point → polygon index, equal to PostGIS ``ST_Covers``.

    The raster is built and kept in tiles of ``2**tile_bits`` cells a side, in bands of tiles
    (``threads`` of them at a time, by default one per core), so that neither the build nor
    the index grows with the empty land in the polygons' box: a tile that one value fills
    (outside, or inside one polygon) is that value; the others keep, per cell and per
    candidate of a boundary cell, an 8-bit index into the tile's own list of values. A tile
    with more than 256 (some hundred micro-grids in 500 m) makes the build start again with
    tiles half as wide. A whole city's micro-grids fit (``bench/city.py``).

    >>> import shapely
    >>> loc = Locator([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], cell=0.1)
    >>> loc.locate(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5])).tolist()
    [0, 0, 1, -1]
    >>> small = Locator([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], cell=0.1, tile_bits=1)
    >>> small.locate(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5])).tolist()
    [0, 0, 1, -1]
    """

    def __init__(
        self, polygons: Polygons, cell: float = 2.5e-5, tile_bits: int = 8, threads: int | None = None
    ):
        if len(polygons) == 0:
            raise InvalidGeometry("cannot index an empty set of polygons")
        self.polygons = np.asarray(polygons, dtype=object)
        self.tree = shapely.STRtree(self.polygons)
        self.rings = _rings(self.polygons)
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.polygons)
        self.dx = float(cell)
        self.dy = float(cell) * 0.8  # about square on the ground at mid latitudes
        self.x0, self.y0 = float(xmin) - self.dx, float(ymin) - self.dy
        nx = int(np.ceil((xmax - self.x0) / self.dx)) + 2
        ny = int(np.ceil((ymax - self.y0) / self.dy)) + 2
        self.shape = (ny, nx)
        self._spans = _segment_cells(self.rings, self.x0, self.y0, self.dx, self.dy, self.shape)
        self._flat = np.int32 if nx * ny < np.iinfo(np.int32).max else np.int64
        # Each polygon's window of cells (its box, a cell wider on every side): the candidates
        # of a boundary cell are the polygons whose window holds it — a superset of those
        # whose box meets the cell, which the exact test then decides.
        box = shapely.bounds(self.polygons)
        self._win_c0 = np.clip(np.floor((box[:, 0] - self.x0) / self.dx).astype(np.int64) - 1, 0, nx - 1)
        self._win_c1 = np.clip(np.floor((box[:, 2] - self.x0) / self.dx).astype(np.int64) + 1, 0, nx - 1)
        self._win_r0 = np.clip(np.floor((box[:, 1] - self.y0) / self.dy).astype(np.int64) - 1, 0, ny - 1)
        self._win_r1 = np.clip(np.floor((box[:, 3] - self.y0) / self.dy).astype(np.int64) + 1, 0, ny - 1)
        threads = threads or parallel.cores()
        while True:
            try:
                self._build(tile_bits, threads)
                break
            except _Crowded:  # a tile of more than 256 cells holds more than 256 values: smaller tiles
                tile_bits -= 1

    def _build(self, bits: int, threads: int) -> None:
        """The tiles of ``2**bits`` cells a side, their bands built side by side, placed in order."""
        ny, nx = self.shape
        self.bits = bits
        side = 1 << bits
        self.tiles_x = -(-nx // side)
        bands = -(-ny // side)
        self.tile_value = np.full(bands * self.tiles_x, OUTSIDE, dtype=np.int32)
        self.tile_offset = np.full(bands * self.tiles_x, -1, dtype=np.int64)
        self.palette_start = np.zeros(bands * self.tiles_x, dtype=np.int64)
        # Room for every tile; the pages of tiles never written are never touched, so they cost
        # no memory, and the pool is a view of what was written.
        pool = np.empty(len(self.tile_value) * side * side, dtype=np.uint8)
        palettes: list[npt.NDArray[np.int32]] = []
        mixed: list[npt.NDArray[np.integer[Any]]] = []
        candidates: list[npt.NDArray[np.uint8]] = []
        starts: list[npt.NDArray[np.int32]] = [np.zeros(1, dtype=np.int32)]
        used = listed = found = 0
        with ThreadPoolExecutor(threads) as workers:  # numpy, GEOS and ndimage let go of the GIL
            parts = parallel.in_order(workers, self._band, range(bands), ahead=threads + 1)
            for band, part in enumerate(parts):
                here = band * self.tiles_x
                self.tile_value[here + part.uniform] = part.value
                self.tile_offset[here + part.dense] = used + np.arange(len(part.dense)) * side * side
                self.palette_start[here + part.dense] = listed + np.cumsum(part.listed) - part.listed
                pool[used : used + part.cells.size] = part.cells.ravel()
                used += part.cells.size
                listed += len(part.palette)
                palettes.append(part.palette)
                mixed.append(part.mixed)
                candidates.append(part.candidates)
                if found + len(part.candidates) >= np.iinfo(np.int32).max:
                    raise InvalidGeometry("more than 2**31 candidates of boundary cells: use a larger cell")
                starts.append((found + np.cumsum(part.counts)).astype(np.int32))
                found += len(part.candidates)
        # What only the build needs goes before the pieces are joined (a retry needs it still).
        del self._win_c0, self._win_c1, self._win_r0, self._win_r1, self.tree, self._spans, self._flat
        self.pool = pool[:used]
        self.palette = _joined(palettes)
        self.mixed_cells: npt.NDArray[np.integer[Any]] = _joined(mixed)
        self.mixed_share = len(self.mixed_cells) / (nx * ny)
        self.candidates = _joined(candidates)
        self.candidate_start = _joined(starts)

    def _band(self, band: int) -> _Band:
        """One band of tiles on its own (the bands are built side by side, then placed in order)."""
        side = 1 << self.bits
        rows = (band * side, min((band + 1) * side, self.shape[0]))
        touched = _touched_cells(
            self.rings, self.x0, self.y0, self.dx, self.dy, self.shape[1], rows, self._spans
        )
        labels, owners = self._components(rows[0], touched)
        mixed, candidates, counts = self._candidates(rows, touched)
        del touched
        return self._tiles(labels, owners, mixed, candidates, counts)

    def _components(
        self, lo: int, touched: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """The band's cells that no boundary touches, in connected pieces, and whose each piece is.

        Answers each cell's piece (0 for the touched cells) and each piece's owner (the polygon
        that covers it, or OUTSIDE; MIXED for piece 0).
        """
        nx = self.shape[1]
        labels, count = ndimage.label(~touched)
        # One cell centre per piece decides the piece (no boundary crosses it). Any cell of it
        # will do: take the start of a run of equal labels (one pass, no sort).
        flat = labels.ravel()
        starts = _run_starts(flat)
        first = np.empty(count + 1, dtype=np.int64)
        first[flat[starts]] = starts
        r, c = np.divmod(first[1:], nx)
        cx, cy = self.x0 + (c + 0.5) * self.dx, self.y0 + (r + lo + 0.5) * self.dy
        owner = self._first_covering(cx, cy, *self.tree.query(shapely.points(cx, cy)))
        return labels, np.concatenate([[MIXED], owner]).astype(np.int32)

    def _candidates(
        self, rows: tuple[int, int], touched: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """The band's boundary cells (flat raster indices) and their candidates.

        Answers the cells, their candidate polygons (cell after cell, lowest first) and how many
        each cell has.
        """
        lo, hi = rows
        nx = self.shape[1]
        local = np.flatnonzero(touched)  # in order: row by row
        near = np.flatnonzero((self._win_r0 < hi) & (self._win_r1 >= lo))
        r0, r1 = np.maximum(self._win_r0[near] - lo, 0), np.minimum(self._win_r1[near] - lo + 1, hi - lo)
        # Per row of a polygon's window, its boundary cells are a run of ``local``.
        height = np.maximum(r1 - r0, 0)
        which = np.repeat(np.arange(len(near)), height)
        row = _ranges(r0, height) * nx
        start = np.searchsorted(local, row + self._win_c0[near][which])
        n = np.searchsorted(local, row + self._win_c1[near][which] + 1) - start
        cell = _ranges(start, n).astype(np.int32)  # a band holds far fewer than 2**31 cells
        poly = np.repeat(near[which].astype(np.int32), n)
        order = np.argsort(cell, kind="stable")  # the polygons of a cell stay lowest first
        counts = np.bincount(cell, minlength=len(local)).astype(np.int32)
        return (local + lo * nx).astype(self._flat), poly[order], counts

    def _tiles(
        self,
        labels: npt.NDArray[np.int32],
        owners: npt.NDArray[np.int32],
        mixed: npt.NDArray[np.integer[Any]],
        candidates: npt.NDArray[np.int32],
        counts: npt.NDArray[np.int32],
    ) -> _Band:
        """Cut a band into tiles: one value for a uniform tile, else 8-bit indices.

        Each cell of a tile that is not uniform, and each candidate of its boundary cells, is an
        index into the tile's own list of values (its polygons, OUTSIDE, MIXED): at most 256, or
        ``_Crowded``.
        """
        side = 1 << self.bits
        height, nx = labels.shape
        values = np.union1d(owners, candidates)  # the band's, sorted
        if len(values) * self.tiles_x >= np.iinfo(np.int32).max:
            raise InvalidGeometry(f"{len(values)} polygons in one band of tiles: use smaller tile_bits")
        # Each cell as (its tile's column, its value among the band's) in one number.
        key = np.searchsorted(values, owners).astype(np.int32)[labels]
        key += (np.arange(nx, dtype=np.int32) >> self.bits) * len(values)
        # A boundary cell's candidates are listed with its tile's values.
        listing = np.repeat(((mixed % nx) >> self.bits).astype(np.int32) * len(values), counts)
        listing += np.searchsorted(values, candidates).astype(np.int32)
        slots = self.tiles_x * len(values)
        present = np.zeros(slots, dtype=bool)
        flat = key.ravel()
        present[flat[_run_starts(flat)]] = True  # each run's first value will do
        present[listing] = True
        seen = present.reshape(self.tiles_x, -1)
        distinct = seen.sum(axis=1)
        if distinct.max() > 256:
            raise _Crowded
        uniform, dense = np.flatnonzero(distinct == 1), np.flatnonzero(distinct > 1)
        rank = (np.cumsum(seen, axis=1) - 1).astype(np.uint8)  # a value's place in its tile's list
        # The band at the full size of its tiles: no lookup reaches the cells past its edges.
        cells = np.zeros((side, self.tiles_x, side), dtype=np.uint8)
        cells.reshape(side, -1)[:height, :nx] = np.take(rank.ravel(), key)
        return _Band(
            uniform=uniform,
            value=values[seen[uniform].argmax(axis=1)],
            dense=dense,
            cells=cells[:, dense, :].transpose(1, 0, 2),  # [tile, row in tile, column in tile]
            palette=values[np.nonzero(seen[dense])[1]],
            listed=distinct[dense],
            mixed=mixed,
            candidates=np.take(rank.ravel(), listing),
            counts=counts,
        )

    @property
    def nbytes(self) -> int:
        """Bytes the index's arrays hold (the raster tiles, palettes, boundary cells, candidates)."""
        return sum(getattr(self, name).nbytes for name in _HELD)

    def save(self, folder: Path) -> None:
        """Write the built index into the new directory ``folder`` (arrays as ``.npy``).

        >>> import shapely, tempfile
        >>> loc = Locator([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], cell=0.1)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     loc.save(Path(tmp) / "index")
        ...     again = Locator.load(Path(tmp) / "index", loc.polygons)
        ...     again.locate(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5])).tolist()
        [0, 0, 1, -1]
        """
        folder.mkdir()
        for name in _HELD:
            np.save(folder / f"{name}.npy", getattr(self, name))
        for f in fields(_Rings):
            np.save(folder / f"rings.{f.name}.npy", getattr(self.rings, f.name))
        scalars = {name: getattr(self, name) for name in _SCALARS}
        meta = {**scalars, "shape": list(self.shape), "format": FORMAT}
        (folder / "locator.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, polygons: Polygons) -> Locator:
        """The index ``save`` wrote into ``folder`` for these ``polygons``, its arrays mapped read-only."""
        meta = json.loads((folder / "locator.json").read_text())
        if meta.get("format") != FORMAT:
            raise InvalidGeometry(f"{folder} holds an index of format {meta.get('format')}, not {FORMAT}")
        loc = cls.__new__(cls)
        loc.polygons = np.asarray(polygons, dtype=object)
        for name in _SCALARS:
            setattr(loc, name, meta[name])
        loc.shape = (int(meta["shape"][0]), int(meta["shape"][1]))
        for name in _HELD:
            setattr(loc, name, np.load(folder / f"{name}.npy", mmap_mode="r"))
        rings = {f.name: np.load(folder / f"rings.{f.name}.npy", mmap_mode="r") for f in fields(_Rings)}
        loc.rings = _Rings(**rings)
        if int(loc.rings.poly_seg_count.shape[0]) != len(loc.polygons):
            raise InvalidGeometry(
                f"{folder} indexes {len(loc.rings.poly_seg_count)} polygons, not {len(polygons)}"
            )
        return loc

    def _first_covering(
        self, x: FloatArray, y: FloatArray, pair_point: IntArray, pair_poly: npt.NDArray[np.integer[Any]]
    ) -> IntArray:
        """For each point, the first polygon (input order) among its candidate pairs that covers it."""
        out = np.full(len(x), OUTSIDE, dtype=np.int64)
        if len(pair_point) == 0:
            return out
        hit = covers_pairs(self.rings, x[pair_point], y[pair_point], pair_poly)
        if not hit.any():
            return out
        p, g = pair_point[hit], pair_poly[hit]
        order = np.lexsort((g, p))  # per point, the lowest polygon index first
        p, g = p[order], g[order]
        first = np.r_[True, p[1:] != p[:-1]]
        out[p[first]] = g[first]
        return out

    def _cells(self, row: IntArray, col: IntArray) -> IntArray:
        """The raster's value at each cell: its tile's, or the entry of the tile's own list."""
        tile = (row >> self.bits) * self.tiles_x + (col >> self.bits)
        out = self.tile_value[tile].astype(np.int64)
        offset = self.tile_offset[tile]
        dense = np.flatnonzero(offset >= 0)
        if len(dense):
            mask = (1 << self.bits) - 1
            r, c = row[dense], col[dense]
            local = self.pool[offset[dense] + ((r & mask) << self.bits) + (c & mask)]
            out[dense] = self.palette[self.palette_start[tile[dense]] + local]
        return out

    def locate(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Index of the polygon that covers each point (first in input order), or -1."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        col = np.floor((lon - self.x0) / self.dx)
        row = np.floor((lat - self.y0) / self.dy)
        ny, nx = self.shape
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        out = np.full(len(lon), OUTSIDE, dtype=np.int64)
        out[inside] = self._cells(row[inside].astype(np.int64), col[inside].astype(np.int64))
        mixed = np.flatnonzero(out == MIXED)
        if len(mixed):
            r, c = row[mixed].astype(np.int64), col[mixed].astype(np.int64)
            k = np.searchsorted(self.mixed_cells, r * nx + c)
            start, stop = (
                self.candidate_start[k].astype(np.int64),
                self.candidate_start[k + 1].astype(np.int64),
            )
            counts = stop - start
            pair_point = np.repeat(np.arange(len(mixed)), counts)
            listed = self.candidates[_ranges(start, counts)]
            tile = (r >> self.bits) * self.tiles_x + (c >> self.bits)
            pair_poly = self.palette[self.palette_start[tile][pair_point] + listed]
            out[mixed] = self._first_covering(lon[mixed], lat[mixed], pair_point, pair_poly)
        return out
