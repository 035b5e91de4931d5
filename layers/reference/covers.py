"""Generated manhole covers (窨井盖) of the reference district: about 30,000 along the grid edges.

Grid boundaries stand in for streets (the district's real pipe network is not
public). Covers are spaced along them, a few metres off the centre line, with a mix
of kinds like a Chinese old town's (sewage and storm water most common, then water,
telecom, power, gas, heating), and IDs numbered per subclass. Their state comes from
inspections (``layers.reference.campaign``).
All generated, deterministic from the seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import shapely

from geo.crs import LocalPlane
from layers.assets.store import AssetRecord
from layers.grid.areas import AreaRecord
from layers.reference.district import district_of

TARGET = 30_000
# subclass: (share, owner unit, maintainer) — generic unit names, not real companies
MIX = {
    "02": (0.26, "排水管理单位", "市政养护单位"),
    "03": (0.20, "排水管理单位", "市政养护单位"),
    "04": (0.10, "排水管理单位", "市政养护单位"),
    "01": (0.12, "供水单位", "供水单位"),
    "07": (0.08, "通信运营单位", "通信运营单位"),
    "05": (0.07, "供电单位", "供电单位"),
    "11": (0.05, "燃气单位", "燃气单位"),
    "10": (0.04, "热力单位", "热力单位"),
    "06": (0.03, "路灯管理单位", "路灯管理单位"),
    "08": (0.02, "有线电视单位", "有线电视单位"),
    "09": (0.015, "网络运营单位", "网络运营单位"),
    "12": (0.005, "公安交管单位", "公安交管单位"),
    "14": (0.01, "权属待查", "属地街道"),
}


def covers(seed: int, records: list[AreaRecord]) -> Iterator[AssetRecord]:
    """Every generated cover of a district's ``records``, numbered per subclass along the streets."""
    district = next(r for r in records if r.level == "district")
    district_code = district.code
    spec = district_of(district_code)
    rng = spec.rng(seed, 11)
    centre = district.geom.centroid
    plane = LocalPlane(round(centre.x, 3), round(centre.y, 3))
    grids = [plane.to_plane(r.geom) for r in records if r.level == "grid"]
    streets = shapely.difference(
        shapely.union_all(shapely.boundary(np.asarray(grids, dtype=object))),
        shapely.buffer(shapely.boundary(plane.to_plane(district.geom)), 1.0),
    )
    lines = [g for g in shapely.get_parts(shapely.line_merge(streets)) if g.length > 20]
    spacing = sum(g.length for g in lines) / spec.scaled(TARGET)
    inside = plane.to_plane(district.geom)
    subclasses = list(MIX)
    shares = np.array([MIX[s][0] for s in subclasses])
    serial = dict.fromkeys(subclasses, 0)
    for line in lines:
        n = max(1, int(line.length // spacing))
        at = (np.arange(n) + rng.uniform(0.2, 0.8, n)) * spacing
        points = shapely.get_coordinates(shapely.line_interpolate_point(line, np.minimum(at, line.length)))
        points += rng.normal(0, 2.5, points.shape)
        points = points[shapely.contains_xy(inside, points[:, 0], points[:, 1])]
        n = len(points)
        lon, lat = points[:, 0] / plane.kx + plane.lon0, points[:, 1] / plane.ky + plane.lat0
        kinds = rng.choice(len(subclasses), size=n, p=shares / shares.sum())
        for k in range(n):
            sub = subclasses[int(kinds[k])]
            serial[sub] += 1
            _, owner, maintainer = MIX[sub]
            grate = sub == "04"
            installed = date(1995, 1, 1) + timedelta(days=int(rng.integers(0, 10_500)))
            yield AssetRecord(
                id=f"{district_code}01{sub}{serial[sub]:06d}",
                kind="manhole_cover",
                name="",
                lon=float(lon[k]),
                lat=float(lat[k]),
                attributes={
                    "material": str(
                        rng.choice(
                            ["ductile_iron", "cast_iron", "composite", "concrete"], p=[0.6, 0.2, 0.15, 0.05]
                        )
                    ),
                    "shape": "square" if grate or rng.random() < 0.15 else "round",
                    "size_mm": int(rng.choice([600, 700, 800])) if not grate else 450,
                    "load_class": str(rng.choice(["D400", "C250", "B125"], p=[0.6, 0.25, 0.15])),
                    "setting": str(
                        rng.choice(["carriageway", "sidewalk", "green", "compound"], p=[0.55, 0.3, 0.05, 0.1])
                    ),
                    "owner": owner,
                    "maintainer": maintainer,
                    "status": "normal",  # defects come from inspections (the reference campaign)
                    "installed": installed.isoformat(),
                    "anti_fall_net": bool(rng.random() < 0.4),
                    "smart_sensor": bool(rng.random() < 0.05),
                },
            )
