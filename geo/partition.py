"""Balanced partition of a polygon into parts that tile it exactly.

Used to generate plausible grid layers where the real boundaries are not public.
A polygon is cut in two by a gently curved line across its long axis, at the
weighted quantile of a point sample (e.g. households), so each side carries the
share of weight its parts ask for; each side is cut again until every part has its
own polygon (recursive bisection, as k-d trees do). Both sides of a cut are built
from the same line, so they tile their parent. :func:`node` then makes neighbours
share every vertex, which keeps later parent = union(children) checks exact.

All coordinates are planar and in metres (e.g. EPSG:4549): the cut geometry uses
Euclidean lengths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidGeometry

FloatArray = npt.NDArray[np.float64]


@dataclass
class Part:
    """One part of a partition: its polygon and the indices of the sample points in it."""

    geom: BaseGeometry
    points: npt.NDArray[np.intp]


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """The value below which a share ``q`` of the total weight lies.

    >>> weighted_quantile(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0, 1.0]), 0.5)
    1.5
    >>> weighted_quantile(np.array([0.0, 10.0]), np.array([3.0, 1.0]), 0.5)
    0.0
    """
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    target = q * cum[-1]
    i = int(np.searchsorted(cum, target, side="left"))
    if i + 1 < len(v) and np.isclose(cum[i], target):
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[min(i, len(v) - 1)])


def long_axis(geom: BaseGeometry) -> FloatArray:
    """Unit vector along the longer side of the minimum rotated rectangle.

    >>> long_axis(shapely.box(0, 0, 10, 2)).round(6).tolist()
    [1.0, 0.0]
    """
    rect = shapely.minimum_rotated_rectangle(geom)
    c = shapely.get_coordinates(rect)
    if len(c) < 4:
        return np.array([1.0, 0.0])
    e1, e2 = c[1] - c[0], c[2] - c[1]
    axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    axis = np.asarray(axis / np.hypot(*axis), dtype=np.float64)
    # A fixed orientation keeps the result independent of GEOS's vertex order.
    return -axis if (axis[0] < 0 or (axis[0] == 0 and axis[1] < 0)) else axis


def _cut_region(
    geom: BaseGeometry, axis: FloatArray, at: float, rng: np.random.Generator, wiggle: float
) -> Polygon:
    """The half-plane ``x·axis < at``, bounded by a gently curved line instead of a straight one."""
    normal = np.array([-axis[1], axis[0]])
    coords = shapely.get_coordinates(geom)
    along = coords @ normal
    lo, hi = float(along.min()), float(along.max())
    length = hi - lo
    pad = length * 0.05 + 1.0
    n = int(np.clip(length / 12.0, 6, 40))
    t = np.linspace(0.0, 1.0, n + 1)
    amplitude = wiggle * length
    f1, f2 = rng.uniform(0.8, 1.8), rng.uniform(2.5, 4.5)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    offset = amplitude * (0.65 * np.sin(2 * np.pi * f1 * t + p1) + 0.35 * np.sin(2 * np.pi * f2 * t + p2))
    offset[[0, -1]] = 0.0
    s = lo - pad + t * (length + 2 * pad)
    line = np.outer(s, normal) + np.outer(at + offset, axis)
    far = float(np.ptp(coords @ axis)) + length + 10.0
    back = line[::-1] - far * axis
    return Polygon(np.vstack([line, back, line[:1]]))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and g.area > 0]


def _largest_first(geom: BaseGeometry) -> list[Polygon]:
    return sorted(_polygons(geom), key=lambda p: -p.area)


def _merge_strays(a: BaseGeometry, b: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """Keep each side in one piece where possible: detached pieces join the other side."""
    for _ in range(2):
        pieces = _largest_first(a)
        if len(pieces) > 1:
            a, b = pieces[0], shapely.union_all([b, *pieces[1:]])
        pieces = _largest_first(b)
        if len(pieces) > 1:
            b, a = pieces[0], shapely.union_all([a, *pieces[1:]])
    return a, b


def bisect(
    part: Part,
    xy: FloatArray,
    weights: FloatArray,
    share: float,
    rng: np.random.Generator,
    wiggle: float = 0.04,
) -> tuple[Part, Part]:
    """Cut ``part`` in two so the first side holds about ``share`` of its weight."""
    if len(part.points) == 0:
        raise InvalidGeometry("cannot split a part that holds no sample points")
    axis = long_axis(part.geom)
    proj = xy[part.points] @ axis
    at = weighted_quantile(proj, weights[part.points], share)
    for attempt in range(4):
        region = _cut_region(part.geom, axis, at, rng, wiggle if attempt < 2 else 0.0)
        a = shapely.intersection(part.geom, region)
        b = shapely.difference(part.geom, region)
        a, b = _merge_strays(a, b)
        if a.area > 0 and b.area > 0:
            break
        axis = np.array([-axis[1], axis[0]])  # degenerate cut: try across the other axis
        proj = xy[part.points] @ axis
        at = weighted_quantile(proj, weights[part.points], share)
    else:
        raise InvalidGeometry("could not find a cut that leaves both sides non-empty")
    inside_a = shapely.contains_xy(a, xy[part.points, 0], xy[part.points, 1])
    return Part(a, part.points[inside_a]), Part(b, part.points[~inside_a])


def partition(
    part: Part,
    xy: FloatArray,
    weights: FloatArray,
    targets: Sequence[float],
    rng: np.random.Generator,
    wiggle: float = 0.04,
) -> list[Part]:
    """Split ``part`` into ``len(targets)`` parts whose weights follow ``targets``.

    Parts come back in the order of ``targets``. Deterministic for a given ``rng``.

    >>> rng = np.random.default_rng(1)
    >>> xy = np.array([[x + 0.5, y + 0.5] for x in range(8) for y in range(8)], dtype=float)
    >>> parts = partition(Part(shapely.box(0, 0, 8, 8), np.arange(64)), xy,
    ...                   np.ones(64), [1, 1, 1, 1], rng, wiggle=0.0)
    >>> [len(p.points) for p in parts], [p.geom.area for p in parts]
    ([16, 16, 16, 16], [16.0, 16.0, 16.0, 16.0])
    """
    if len(targets) == 1:
        return [part]
    k = len(targets) // 2
    share = float(sum(targets[:k]) / sum(targets))
    first, second = bisect(part, xy, weights, share, rng, wiggle)
    return [
        *partition(first, xy, weights, targets[:k], rng, wiggle),
        *partition(second, xy, weights, targets[k:], rng, wiggle),
    ]


def node(cells: Sequence[BaseGeometry]) -> list[MultiPolygon]:
    """Rebuild cells that tile an area so that neighbours share every vertex.

    Cutting leaves T-junctions (a vertex of one cell in the middle of its
    neighbour's edge). Noding all boundaries together and polygonising gives faces
    with exactly shared edges; each face goes back to the cell that contains it.

    >>> a, b = shapely.box(0, 0, 1, 2), shapely.box(1, 0, 2, 1)
    >>> c = shapely.box(1, 1, 2, 2)
    >>> [len(shapely.get_coordinates(g)) for g in node([a, b, c])]
    [6, 5, 5]
    """
    lines = shapely.union_all(shapely.boundary(np.asarray(cells, dtype=object)))
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    reps = shapely.point_on_surface(faces)
    tree = shapely.STRtree(np.asarray(cells, dtype=object))
    face_idx, cell_idx = tree.query(reps, predicate="within")
    owners: dict[int, list[Polygon]] = {}
    for f, c in zip(face_idx.tolist(), cell_idx.tolist(), strict=True):
        owners.setdefault(c, []).append(faces[f])
    out: list[MultiPolygon] = []
    for i in range(len(cells)):
        parts = owners.get(i)
        if not parts:
            raise InvalidGeometry(f"cell {i} has no area after noding")
        merged = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        out.append(MultiPolygon(_polygons(merged)))
    return out


def reading_order(geoms: Sequence[BaseGeometry]) -> list[int]:
    """Indices of ``geoms`` north → south in rows, west → east within a row (DB11 serials).

    >>> boxes = [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0, 1, 2, 2)]
    >>> reading_order(boxes)
    [2, 1, 0]
    """
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms, dtype=object)))
    n = len(pts)
    rows = max(1, round(np.sqrt(n)))
    ymin, ymax = float(pts[:, 1].min()), float(pts[:, 1].max())
    height = (ymax - ymin) / rows or 1.0
    band = np.minimum(((ymax - pts[:, 1]) / height).astype(int), rows - 1)
    return [int(i) for i in np.lexsort((pts[:, 0], band))]
