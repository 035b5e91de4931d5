"""Generated doorplates (门牌) on a reference district's real road names.

The road names are real: the district's named roads (Shibei's from the product brief,
``layers.reference.district.DISTRICTS``) and every community named after its road
(恩县路社区 → 恩县路). The roads' courses are not: each community's
road runs through that community along its long axis and on into its neighbours;
the other named roads are laid across the district from the seed. Doorplates
follow each road, odd numbers on one side and even on the other, and some compounds
get numbered buildings. All generated, deterministic from the seed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.crs import LocalPlane
from geo.partition import long_axis
from layers.addresses.gazetteer import AddressRecord
from layers.grid.areas import AreaRecord
from layers.reference.district import DISTRICT_CODE, district_of
from layers.reference.parking import ruidao_layout

TARGET_DOORPLATES = 56_000
SIDE_OFFSET_M = 9.0


def road_name(community_name: str) -> str | None:
    """The road a community is named after, if it is.

    >>> road_name("恩县路社区居委会"), road_name("科技街社区居委会"), road_name("小港社区居委会")
    ('恩县路', '科技街', None)
    """
    base = re.sub(r"社区(居委会|居民委员会)$", "", community_name)
    return base if re.search(r"(路|街|支路)$", base) else None


def _road_through(
    geom: BaseGeometry, length: float, rng: np.random.Generator, start: float = 0.5
) -> LineString:
    """A gently curved road through ``geom`` along its long axis, ``length`` metres long.

    ``start`` is the share of the road before the point it passes through: a small one
    starts the numbering, and so the low house numbers, inside ``geom``.
    """
    centre = np.array(shapely.point_on_surface(geom).coords[0])
    axis = long_axis(geom)
    turn = rng.uniform(-0.25, 0.25)
    axis = np.array(
        [axis[0] * np.cos(turn) - axis[1] * np.sin(turn), axis[0] * np.sin(turn) + axis[1] * np.cos(turn)]
    )
    normal = np.array([-axis[1], axis[0]])
    t = np.linspace(-start, 1.0 - start, 25)
    bend = rng.uniform(-0.04, 0.04) * length * np.sin(np.pi * (t + start)) ** 2
    return LineString(centre + np.outer(t * length, axis) + np.outer(bend, normal))


def roads(
    communities: list[AreaRecord],
    district: AreaRecord,
    plane: LocalPlane,
    rng: np.random.Generator,
    named: tuple[str, ...],
) -> dict[str, LineString]:
    """Each road name and its course in the plane (metres), clipped to the district."""
    boundary = plane.to_plane(district.geom)
    courses: dict[str, BaseGeometry] = {}
    for community in communities:
        name = road_name(community.name)
        if name is not None and name not in courses:
            courses[name] = _road_through(
                plane.to_plane(community.geom), rng.uniform(900, 2200), rng, start=0.15
            )
    for name in named:
        if name not in courses:
            seed_area = communities[int(rng.integers(len(communities)))]
            courses[name] = _road_through(plane.to_plane(seed_area.geom), rng.uniform(1200, 3000), rng)
    if district.code == DISTRICT_CODE:  # 瑞岛路 and 瑞湖路 run where 瑞岛路地下停车场's description puts them
        layout = ruidao_layout(plane, district.geom)
        courses["瑞岛路"], courses["瑞湖路"] = layout.ruidao_road, layout.ruihu_road
    clipped: dict[str, LineString] = {}
    for name, line in courses.items():
        inside = shapely.intersection(line, boundary)
        parts = [p for p in shapely.get_parts(inside) if isinstance(p, LineString) and p.length > 100]
        if parts:
            clipped[name] = max(parts, key=lambda p: p.length)
    return clipped


def doorplates(seed: int, records: list[AreaRecord]) -> Iterator[AddressRecord]:
    """Every generated address of a reference district (``records``), deterministic from ``seed``."""
    district = next(r for r in records if r.level == "district")
    spec = district_of(district.code)
    rng = spec.rng(seed, 7)
    communities = sorted((r for r in records if r.level == "community"), key=lambda r: r.code)
    centre = district.geom.centroid
    plane = LocalPlane(round(centre.x, 3), round(centre.y, 3))
    courses = roads(communities, district, plane, rng, spec.roads)
    boundary = plane.to_plane(district.geom)
    spacing = 2 * sum(line.length for line in courses.values()) / spec.scaled(TARGET_DOORPLATES)
    for name in sorted(courses):
        line = courses[name]
        n = int(line.length // spacing)
        for side, first in ((1.0, 1), (-1.0, 2)):
            offset = line.offset_curve(side * SIDE_OFFSET_M)
            if offset.is_empty or offset.geom_type != "LineString":
                continue
            at = np.linspace(0.0, 1.0, n + 2)[1:-1] + rng.normal(0, 0.15 / max(n, 1), n)
            pts = shapely.line_interpolate_point(offset, np.clip(at, 0, 1), normalized=True)
            keep = shapely.contains(boundary, pts)
            xy = shapely.get_coordinates(pts)
            lon, lat = xy[:, 0] / plane.kx + plane.lon0, xy[:, 1] / plane.ky + plane.lat0
            for k in np.flatnonzero(keep):
                number = str(first + 2 * int(k))
                yield AddressRecord(name, number, "", float(lon[k]), float(lat[k]))
                if rng.random() < 0.08:  # a residential compound behind the doorplate
                    for b in range(1, int(rng.integers(2, 7))):
                        dx, dy = rng.normal(0, 25, 2)
                        x, y = xy[k, 0] + dx, xy[k, 1] + dy
                        if shapely.contains_xy(boundary, x, y):
                            yield AddressRecord(
                                name, number, f"{b}号楼", x / plane.kx + plane.lon0, y / plane.ky + plane.lat0
                            )
