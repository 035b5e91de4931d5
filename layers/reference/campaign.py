"""The reference inspection campaign, shaped like the district's real two-week cover campaign.

The real one patrolled 1,100+ road segments and about 900 residential compounds and
found 162 defective covers (PRODUCT.md); its records are not public. This one is
generated: the same scope figures, patrol records for a deterministic share of the
covers over fourteen working days, and exactly 162 defective covers with a plausible
mix of defects. Labelled as generated in its note.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
from sqlalchemy import Connection, text

from layers.assets import inspections

NAME = "窨井盖安全隐患专项排查（生成数据）"
STARTS = date(2024, 4, 8)
DAYS = 14
ROAD_SEGMENTS = 1_126
COMPOUNDS = 903
DEFECTIVE = 162
SHARE_INSPECTED = 0.45
DEFECT_MIX = {
    "cover_broken": 0.27,
    "height_difference": 0.22,
    "frame_broken": 0.12,
    "rocking_noise": 0.12,
    "gap": 0.08,
    "pavement_subsidence": 0.07,
    "missing": 0.05,
    "displaced": 0.04,
    "light_duty_on_road": 0.02,
    "wrong_marking": 0.01,
}
BEIJING = timezone(timedelta(hours=8))


def load_campaign(conn: Connection, seed: int, district_code: str) -> int:
    """Write the campaign and its inspections of the district's covers, and bring their state up to date."""
    rng = np.random.default_rng(seed + 23)
    ids = [
        r[0]
        for r in conn.execute(
            text("SELECT id FROM assets WHERE kind = 'manhole_cover' AND id LIKE :d ORDER BY id"),
            {"d": f"{district_code}%"},
        )
    ]
    chosen = sorted(rng.choice(ids, size=int(len(ids) * SHARE_INSPECTED), replace=False).tolist())
    defective = set(rng.choice(chosen, size=DEFECTIVE, replace=False).tolist())
    campaign = inspections.create_campaign(
        conn,
        NAME,
        STARTS,
        STARTS + timedelta(days=DAYS - 1),
        district_code,
        ROAD_SEGMENTS,
        COMPOUNDS,
        note="示例区生成数据：规模与真实专项排查相同 (generated; scope figures as in the real campaign)",
    )
    teams = [f"巡查{n}组" for n in range(1, 13)]
    defects = list(DEFECT_MIX)
    share = np.array(list(DEFECT_MIX.values()))
    rows = []
    for asset_id in chosen:
        day = STARTS + timedelta(days=int(rng.integers(0, DAYS)))
        at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=BEIJING) + timedelta(
            minutes=int(rng.integers(0, 540))
        )
        bad = asset_id in defective
        rows.append(
            {
                "asset_id": asset_id,
                "at": at,
                "inspector": teams[int(rng.integers(len(teams)))],
                "result": "defect" if bad else "ok",
                "defect": defects[int(rng.choice(len(defects), p=share / share.sum()))] if bad else None,
                "photo_url": None,
                "note": "",
                "campaign_id": campaign,
            }
        )
    conn.execute(inspections.INSERT_MANY, rows)
    inspections.sync_assets(conn, chosen)
    return campaign
