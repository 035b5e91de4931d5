"""Generated surveillance cameras (0136): at street corners, a quarter of them with AI events.

The generated grids' corners are the generated street network's crossings, so a
camera there looks along two streets. Deterministic from the seed; labelled generated.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

from layers.assets.store import AssetRecord
from layers.grid.areas import AreaRecord
from layers.reference.district import district_of

COUNT = 320


def cameras(seed: int, records: list[AreaRecord]) -> Iterator[AssetRecord]:
    """Shibei's ``COUNT`` cameras (another district's in proportion) at distinct grid corners,
    numbered west to east."""
    district_code = next(r.code for r in records if r.level == "district")
    spec = district_of(district_code)
    rng = spec.rng(seed, 36)
    grids = [r.geom for r in records if r.level == "grid"]
    corners = np.unique(shapely.get_coordinates(shapely.boundary(grids)), axis=0)
    chosen = corners[
        np.sort(rng.choice(len(corners), size=min(spec.scaled(COUNT), len(corners)), replace=False))
    ]
    for serial, (lon, lat) in enumerate(chosen, start=1):
        yield AssetRecord(
            id=f"{district_code}0136{serial:06d}",
            kind="camera",
            name=f"路口监控 {serial:03d}（生成）",
            lon=float(lon),
            lat=float(lat),
            attributes={
                "owner": "公安交管单位",
                "ai": bool(rng.random() < 0.25),
                "heading_deg": float(rng.integers(0, 360)),
            },
        )
