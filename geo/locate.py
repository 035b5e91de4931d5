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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OUTSIDE = -1
MIXED = -2
_MARGIN = 1e-9  # degrees (~0.1 mm): cells this close to a segment count as touched


@dataclass(frozen=True)
class _Rings:
    """Every ring of every polygon as flat segment arrays (the numpy point-in-ring input)."""

    x1: FloatArray
    y1: FloatArray
    x2: FloatArray
    y2: FloatArray
    seg_ring: IntArray  # ring of each segment
    ring_hole: npt.NDArray[np.bool_]
    ring_part: IntArray  # polygon part of each ring (global)
    live: npt.NDArray[np.bool_]  # False for zero-length segments, which PostGIS ignores
    poly_seg_start: IntArray  # first segment of each polygon
    poly_seg_count: IntArray


def _rings(polygons: Sequence[BaseGeometry] | npt.NDArray[np.object_]) -> _Rings:
    xs1, ys1, xs2, ys2, seg_ring = [], [], [], [], []
    ring_hole, ring_part, poly_start, poly_count = [], [], [], []
    seg = ring = part = 0
    for poly in polygons:
        poly_start.append(seg)
        first = seg
        for piece in shapely.get_parts(poly):
            rings = [piece.exterior, *piece.interiors]
            for k, r in enumerate(rings):
                c = shapely.get_coordinates(r)
                n = len(c) - 1
                xs1.append(c[:-1, 0])
                ys1.append(c[:-1, 1])
                xs2.append(c[1:, 0])
                ys2.append(c[1:, 1])
                seg_ring.append(np.full(n, ring))
                ring_hole.append(k > 0)
                ring_part.append(part)
                seg += n
                ring += 1
            part += 1
        poly_count.append(seg - first)
    x1, y1, x2, y2 = (np.concatenate(v) for v in (xs1, ys1, xs2, ys2))
    return _Rings(
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        live=~((x1 == x2) & (y1 == y2)),
        seg_ring=np.concatenate(seg_ring),
        ring_hole=np.array(ring_hole),
        ring_part=np.array(ring_part),
        poly_seg_start=np.array(poly_start),
        poly_seg_count=np.array(poly_count),
    )


def covers_pairs(rings: _Rings, px: FloatArray, py: FloatArray, poly: IntArray) -> npt.NDArray[np.bool_]:
    """For each pair (point ``k``, polygon ``poly[k]``), whether the polygon covers the point.

    PostGIS's ``point_in_multipolygon`` in numpy: per ring a winding number from
    ``determineSide``, 0 = on the ring (exact ``side == 0`` within the segment's box),
    then parts with holes. Same doubles, same operations, same answers.
    """
    if len(poly) == 0:
        return np.zeros(0, dtype=bool)
    counts = rings.poly_seg_count[poly]
    pair = np.repeat(np.arange(len(poly)), counts)
    offsets = np.cumsum(counts) - counts
    seg = np.arange(len(pair)) - np.repeat(offsets, counts) + np.repeat(rings.poly_seg_start[poly], counts)
    x1, y1, x2, y2 = rings.x1[seg], rings.y1[seg], rings.x2[seg], rings.y2[seg]
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


def _touched_cells(
    rings: _Rings, x0: float, y0: float, dx: float, dy: float, shape: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Cells (closed, widened by a margin) that any segment passes through, found exactly."""
    touched = np.zeros(shape, dtype=bool)
    ny, nx = shape
    x1, y1, x2, y2 = rings.x1, rings.y1, rings.x2, rings.y2
    c0 = np.clip(np.floor((np.minimum(x1, x2) - _MARGIN - x0) / dx).astype(np.int64), 0, nx - 1)
    c1 = np.clip(np.floor((np.maximum(x1, x2) + _MARGIN - x0) / dx).astype(np.int64), 0, nx - 1)
    r0 = np.clip(np.floor((np.minimum(y1, y2) - _MARGIN - y0) / dy).astype(np.int64), 0, ny - 1)
    r1 = np.clip(np.floor((np.maximum(y1, y2) + _MARGIN - y0) / dy).astype(np.int64), 0, ny - 1)
    w, h = c1 - c0 + 1, r1 - r0 + 1
    n = w * h
    for lo in range(0, len(x1), 20_000):  # bounded memory: candidate cells of 20k segments at a time
        s = slice(lo, lo + 20_000)
        cnt = n[s]
        seg = np.repeat(np.arange(lo, lo + len(cnt)), cnt)
        k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        col = c0[seg] + k % w[seg]
        row = r0[seg] + k // w[seg]
        # The segment's line separates the cell's corners unless all four lie strictly on one side.
        cx0, cy0 = x0 + col * dx - _MARGIN, y0 + row * dy - _MARGIN
        cx1, cy1 = cx0 + dx + 2 * _MARGIN, cy0 + dy + 2 * _MARGIN
        ax, ay, bx, by = x1[seg], y1[seg], x2[seg], y2[seg]
        ex, ey = bx - ax, by - ay
        sides = [
            ex * (cy - ay) - (cx - ax) * ey for cx, cy in ((cx0, cy0), (cx1, cy0), (cx0, cy1), (cx1, cy1))
        ]
        stacked = np.stack(sides)
        crosses = ~((stacked > 0).all(axis=0) | (stacked < 0).all(axis=0))
        touched[row[crosses], col[crosses]] = True
    return touched


class Locator:
    """An in-process index answering point → polygon index, equal to PostGIS ``ST_Covers``.

    >>> import shapely
    >>> loc = Locator([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], cell=0.1)
    >>> loc.locate(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5])).tolist()
    [0, 0, 1, -1]
    """

    def __init__(self, polygons: Sequence[BaseGeometry], cell: float = 2.5e-5):
        if len(polygons) == 0:
            raise InvalidGeometry("cannot index an empty set of polygons")
        self.polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.rings = _rings(self.polygons)
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.polygons)
        self.dx = float(cell)
        self.dy = float(cell) * 0.8  # about square on the ground at mid latitudes
        self.x0, self.y0 = float(xmin) - self.dx, float(ymin) - self.dy
        nx = int(np.ceil((xmax - self.x0) / self.dx)) + 2
        ny = int(np.ceil((ymax - self.y0) / self.dy)) + 2
        touched = _touched_cells(self.rings, self.x0, self.y0, self.dx, self.dy, (ny, nx))
        labels, count = ndimage.label(~touched)
        # One cell centre per component decides the component (no boundary crosses it).
        # Any cell of it will do: take the start of a run of equal labels (one pass, no sort).
        flat = labels.ravel()
        starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
        first = np.empty(count + 1, dtype=np.int64)
        first[flat[starts]] = starts
        rows, cols = np.divmod(first[1:], nx)
        cx, cy = self.x0 + (cols + 0.5) * self.dx, self.y0 + (rows + 0.5) * self.dy
        owner = self._first_covering(cx, cy, *self.tree.query(shapely.points(cx, cy)))
        table = np.concatenate([[MIXED], owner]).astype(np.int32)
        self.raster = table[labels]
        self.mixed_share = float(touched.mean())
        # Candidates of each boundary cell, as CSR arrays keyed by the cell's flat index.
        mrow, mcol = np.nonzero(touched)
        self.mixed_cells = mrow.astype(np.int64) * nx + mcol
        boxes = shapely.box(
            self.x0 + mcol * self.dx - _MARGIN,
            self.y0 + mrow * self.dy - _MARGIN,
            self.x0 + (mcol + 1) * self.dx + _MARGIN,
            self.y0 + (mrow + 1) * self.dy + _MARGIN,
        )
        # (not `cell`: that is the raster size this constructor was given)
        box_of, poly_of = self.tree.query(boxes)
        order = np.lexsort((poly_of, box_of))
        self.candidates = poly_of[order]
        self.candidate_start = np.searchsorted(box_of[order], np.arange(len(self.mixed_cells) + 1))

    def _first_covering(
        self, x: FloatArray, y: FloatArray, pair_point: IntArray, pair_poly: IntArray
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

    def locate(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Index of the polygon that covers each point (first in input order), or -1."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        col = np.floor((lon - self.x0) / self.dx)
        row = np.floor((lat - self.y0) / self.dy)
        ny, nx = self.raster.shape
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        out = np.full(len(lon), OUTSIDE, dtype=np.int64)
        out[inside] = self.raster[row[inside].astype(np.int64), col[inside].astype(np.int64)]
        mixed = np.flatnonzero(out == MIXED)
        if len(mixed):
            flat = row[mixed].astype(np.int64) * nx + col[mixed].astype(np.int64)
            k = np.searchsorted(self.mixed_cells, flat)
            start, stop = self.candidate_start[k], self.candidate_start[k + 1]
            counts = stop - start
            pair_point = np.repeat(np.arange(len(mixed)), counts)
            pair_poly = self.candidates[
                np.arange(counts.sum())
                - np.repeat(np.cumsum(counts) - counts, counts)
                + np.repeat(start, counts)
            ]
            out[mixed] = self._first_covering(lon[mixed], lat[mixed], pair_point, pair_poly)
        return out
