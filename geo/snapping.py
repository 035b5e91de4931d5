"""Polygons stored at the precision they are served: a coverage snapped to a grid, still a coverage.

GeoJSON and OGC API – Features answers carry 7 decimals (1e-7° ≈ 1 cm). Rounding each
vertex of a valid coverage to that grid can fold a thin polygon over itself or open a
crack where a vertex of one polygon lay on the edge (not a vertex) of its neighbour; a
GIS user's union of the served set then fails ("side location conflict"). So the stored
geometry is the served one:

1. node the boundaries of all polygons together with snap-rounding at the grid
   (GEOS OverlayNG with a fixed precision model: every vertex and every crossing on
   the grid, robustly);
2. polygonize that linework into faces: a partition, so no face overlaps another;
3. give each face to the input polygon that holds a point inside it (where that point is
   in several or none, to the one it shares most area with; faces mostly outside every
   polygon are the coverage's own gaps and stay gaps) and dissolve each polygon's faces.

Shared edges come from the same noded lines, so neighbours match vertex for vertex and
the result is a valid coverage whose every coordinate prints exactly at the grid's
decimals. GEOS's CoverageCleaner (``shapely.coverage_clean``) merges gaps and overlaps
but adds noding vertices off any grid, so it does not replace step 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from numpy.typing import ArrayLike

SERVED_GRID = 1e-7  # degrees: the 7 decimals of GeoJSON answers
SERVED_DECIMALS = 7


def snap_coverage(polygons: ArrayLike, grid: float = SERVED_GRID) -> npt.NDArray[np.object_]:
    """The polygons of a coverage with every vertex on ``grid``, as MultiPolygons, still a coverage.

    A polygon that collapses entirely (thinner than the grid) comes back empty.

    >>> a = shapely.box(0, 0, 1.00000004, 1)
    >>> b = shapely.Polygon([(1.00000004, 0), (2, 0), (2, 1), (1.00000004, 1), (1.00000004, 0.5)])
    >>> snapped = snap_coverage([a, b])
    >>> bool(shapely.coverage_is_valid(snapped)), bool(shapely.is_valid(snapped).all())
    (True, True)
    >>> sorted({x for x, _ in shapely.get_coordinates(snapped).tolist()})
    [0.0, 1.0, 2.0]
    >>> [round(g.area, 6) for g in snapped]
    [1.0, 1.0]
    """
    polys = np.asarray(polygons, dtype=object)
    out = np.array([shapely.MultiPolygon()] * len(polys), dtype=object)
    if len(polys) == 0:
        return out
    lines = shapely.union_all(shapely.boundary(polys), grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize([lines]))
    faces = faces[shapely.area(faces) > 0]
    tree = shapely.STRtree(polys)
    owner = np.full(len(faces), -1)
    inside, within = tree.query(shapely.point_on_surface(faces), predicate="within")
    hits = np.bincount(inside, minlength=len(faces))
    single = hits[inside] == 1
    owner[inside[single]] = within[single]
    unsure = np.flatnonzero(hits != 1)  # in an overlap or a gap: the larger shared area decides
    face_index, poly_index = tree.query(faces[unsure], predicate="intersects")
    shared = shapely.area(shapely.intersection(faces[unsure][face_index], polys[poly_index]))
    best = np.zeros(len(unsure))
    for f, p, a in zip(face_index.tolist(), poly_index.tolist(), shared.tolist(), strict=True):
        if a > best[f]:
            owner[unsure[f]], best[f] = p, a
    gaps = best < 0.5 * shapely.area(faces[unsure])  # mostly outside every polygon: the coverage's gap
    owner[unsure[gaps]] = -1
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(polys) + 1))
    for p in range(len(polys)):
        mine = faces[order[starts[p] : starts[p + 1]]]
        if len(mine):
            out[p] = _multi(shapely.coverage_union_all(mine))
    return out


def _multi(geom: shapely.Geometry) -> shapely.MultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty]
    return shapely.MultiPolygon(parts)
