"""Parking projects: 瑞岛路地下停车场 with its real figures, and 40+ generated car parks.

瑞岛路地下停车场's figures are the published ones (PRODUCT.md). Its position follows
the published description — on Jiaozhou Bay's shore (< 100 m), north of 瑞岛路 and
west of 瑞湖路 — against the district's real shoreline; the two roads' courses in
the address layer are laid to match (the real street centre lines are not in our
data, so the position is right in its relations, approximate in metres). Every other
car park is generated, deterministic from the seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import LocalPlane
from layers.assets.store import AssetRecord
from layers.grid.areas import AreaRecord

RUIDAO = {
    "name": "瑞岛路地下停车场",
    "status": "under_construction",
    "progress_pct": 70.0,
    "category": "public",
    "structure": "underground",
    "spaces": 669,
    "ev_spaces": 134,
    "site_area_m2": 40_100.0,
    "floor_area_m2": 29_400.0,
    "garage_area_m2": 23_400.0,
    "commercial_area_m2": 5_800.0,
    "investment_cny": 355_000_000.0,
    "start_date": "2025-10-01",
    "due_date": "2026-12-31",
}
SITE_LAT = 36.115  # the site's south edge: the stretch of shore around 湖岛
SHORE_GAP_M = 40.0
GENERATED = 44


@dataclass(frozen=True)
class RuidaoLayout:
    """瑞岛路地下停车场's site and entrance, and the courses of 瑞岛路 and 瑞湖路 (plane metres)."""

    site: Polygon
    entrance: tuple[float, float]
    ruidao_road: LineString
    ruihu_road: LineString


def _shore_x(district: BaseGeometry, y: float) -> float:
    """Easting of the district's western edge (the bay shore) at northing ``y``."""
    minx, _, maxx, _ = district.bounds
    cut = shapely.intersection(district, LineString([(minx - 10, y), (maxx + 10, y)]))
    return float(shapely.bounds(cut)[0])


def ruidao_layout(plane: LocalPlane, district_lonlat: BaseGeometry) -> RuidaoLayout:
    """Place the site on the shore, 瑞岛路 along its south side and 瑞湖路 along its east side."""
    district = plane.to_plane(district_lonlat)
    side = float(np.sqrt(RUIDAO["site_area_m2"]))
    _, y0 = plane.xy(plane.lon0, SITE_LAT)
    y0 = float(y0)
    west = max(_shore_x(district, y) for y in np.linspace(y0, y0 + side, 21)) + SHORE_GAP_M
    site = shapely.box(west, y0, west + side, y0 + side)
    ruidao = LineString([(west - SHORE_GAP_M, y0 - 15), (west + 1500, y0 - 15)])
    ruihu = LineString([(west + side + 15, y0 - 600), (west + side + 15, y0 + 900)])
    return RuidaoLayout(site, (west + side / 2, y0), ruidao, ruihu)


def _to_lonlat(plane: LocalPlane, x: float, y: float) -> tuple[float, float]:
    return x / plane.kx + plane.lon0, y / plane.ky + plane.lat0


def ev_spaces(rng: np.random.Generator, spaces: int, start: date, share: float) -> int:
    """Charging spaces of a generated car park, by when it was built: most car parks built
    before 2018 have none (a few were retrofitted with a handful), those of 2018–2020 about
    half, newer ones nearly all, with ``share`` of their spaces (new public car parks must
    equip at least 10 %)."""
    chance = 0.15 if start.year < 2018 else 0.5 if start.year < 2021 else 0.9
    if rng.random() >= chance:
        return 0
    if start.year < 2018:
        return int(min(spaces, rng.integers(2, 7)))
    return max(1, int(spaces * share))


def car_parks(seed: int, records: list[AreaRecord], district_code: str) -> Iterator[AssetRecord]:
    """瑞岛路地下停车场 (serial 000001) and the generated public car parks."""
    rng = np.random.default_rng(seed + 31)
    ev_rng = np.random.default_rng(seed + 37)
    district = next(r for r in records if r.level == "district")
    centre = district.geom.centroid
    plane = LocalPlane(round(centre.x, 3), round(centre.y, 3))
    layout = ruidao_layout(plane, district.geom)
    inside = plane.to_plane(district.geom)

    def record(
        serial: int, name: str, site: Polygon, entrance: tuple[float, float], attrs: dict
    ) -> AssetRecord:
        lon, lat = _to_lonlat(plane, *entrance)
        return AssetRecord(
            id=f"{district_code}0201{serial:06d}",
            kind="parking",
            name=name,
            lon=lon,
            lat=lat,
            attributes=attrs,
            site=MultiPolygon([plane.to_lonlat(site)]),
        )

    yield record(
        1, RUIDAO["name"], layout.site, layout.entrance, {k: v for k, v in RUIDAO.items() if k != "name"}
    )
    communities = [r for r in records if r.level == "community"]
    taken = [layout.site.buffer(50)]
    serial = 1
    while serial <= GENERATED:
        community = communities[int(rng.integers(len(communities)))]
        size = rng.choice(["small", "medium", "large"], p=[0.5, 0.35, 0.15])
        spaces = int(
            {
                "small": rng.integers(20, 90),
                "medium": rng.integers(100, 320),
                "large": rng.integers(320, 800),
            }[size]
        )
        structure = (
            "surface" if size == "small" else str(rng.choice(["underground", "multi_storey", "mechanical"]))
        )
        area = spaces * (28 if structure == "surface" else 12) * rng.uniform(0.9, 1.3)
        w = float(np.sqrt(area * rng.uniform(0.6, 1.6)))
        h = area / w
        cx, cy = shapely.get_coordinates(shapely.point_on_surface(plane.to_plane(community.geom)))[0]
        site = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if not inside.contains(site) or any(site.intersects(t) for t in taken):
            continue
        taken.append(site.buffer(30))
        serial += 1
        status = str(rng.choice(["operating", "under_construction", "planned"], p=[0.7, 0.2, 0.1]))
        start = date(2015, 1, 1) + timedelta(days=int(rng.integers(0, 3800)))
        name = community.name.removesuffix("社区居委会").removesuffix("社区居民委员会") + "公共停车场"
        yield record(
            serial,
            name,
            site,
            (cx, cy - h / 2),
            {
                "status": status,
                "progress_pct": 100.0
                if status == "operating"
                else (0.0 if status == "planned" else round(float(rng.uniform(10, 90)), 1)),
                "category": "public",
                "structure": structure,
                "spaces": spaces,
                "ev_spaces": ev_spaces(ev_rng, spaces, start, float(rng.uniform(0.08, 0.25))),
                "site_area_m2": round(float(site.area), 1),
                "start_date": start.isoformat(),
                "due_date": (start + timedelta(days=int(rng.integers(300, 900)))).isoformat(),
                "operator": "区停车管理单位",
            },
        )
