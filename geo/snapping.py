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
3. give each face to the input polygon that holds a point inside it. A face narrower than
   two grid cells that lies in several polygons, or in none, is a sliver of the snapping:
   it goes to the polygon it shares most area with (or stays a gap when it is mostly
   outside every polygon). A wider face in several polygons is a real overlap of the input
   and stays in each, for the import's checks to report. Then dissolve each polygon's faces.

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


def snap_coverage(polygons: ArrayLike, grid: float = SERVED_GRID) -> npt.NDArray[np.object_]:
    """The polygons of a coverage with every vertex on ``grid``, as MultiPolygons, still a coverage.

    Overlaps and gaps wider than the grid are kept as they were: snapping repairs nothing.

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
    >>> overlapping = snap_coverage([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)])
    >>> round(overlapping[0].intersection(overlapping[1]).area, 6)
    1.0
    """
    polys = np.asarray(polygons, dtype=object)
    out = np.array([shapely.MultiPolygon()] * len(polys), dtype=object)
    if len(polys) == 0:
        return out
    lines = shapely.union_all(shapely.boundary(polys), grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize([lines]))
    faces = faces[shapely.area(faces) > 0]
    tree = shapely.STRtree(polys)
    inside, within = tree.query(shapely.point_on_surface(faces), predicate="within")
    hits = np.bincount(inside, minlength=len(faces))
    narrow = 2 * shapely.area(faces) / shapely.length(faces) < 2 * grid  # a sliver of the snapping
    keep = (hits[inside] == 1) | ~narrow[inside]  # one owner; or a real overlap, kept for the checks
    face_of, poly_of = [inside[keep]], [within[keep]]
    unsure = np.flatnonzero((hits == 0) | ((hits > 1) & narrow))  # the larger shared area decides
    face_index, poly_index = tree.query(faces[unsure], predicate="intersects")
    shared = shapely.area(shapely.intersection(faces[unsure][face_index], polys[poly_index]))
    best, owner = np.zeros(len(unsure)), np.full(len(unsure), -1)
    for f, p, a in zip(face_index.tolist(), poly_index.tolist(), shared.tolist(), strict=True):
        if a > best[f]:
            owner[f], best[f] = p, a
    taken = best >= 0.5 * shapely.area(faces[unsure])  # else mostly outside every polygon: a gap
    face_of.append(unsure[taken])
    poly_of.append(owner[taken])
    faces_of, polys_of = np.concatenate(face_of), np.concatenate(poly_of)
    order = np.argsort(polys_of, kind="stable")
    starts = np.searchsorted(polys_of[order], np.arange(len(polys) + 1))
    for p in range(len(polys)):
        mine = faces[faces_of[order[starts[p] : starts[p + 1]]]]
        if len(mine):
            out[p] = _multi(shapely.coverage_union_all(mine))
    return out


def _multi(geom: shapely.Geometry) -> shapely.MultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty]
    return shapely.MultiPolygon(parts)
