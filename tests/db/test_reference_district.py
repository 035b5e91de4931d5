"""The reference district: real codes and counts, exact nesting, determinism."""

from __future__ import annotations

from collections import Counter

import shapely
from sqlalchemy import Connection, text

from api.settings import Settings
from layers.grid import areas
from layers.grid.validate import check_generation
from layers.reference.district import boundary_wgs84, generate, read_divisions


def test_counts_are_the_districts(conn: Connection, demo: int) -> None:
    assert areas.count_by_level(conn, demo) == {
        "district": 1,
        "street": 22,
        "community": 137,
        "grid": 940,
        "micro_grid": 7_082,
    }


def test_every_street_keeps_its_real_number_of_communities(conn: Connection, demo: int) -> None:
    real = Counter(d.parent_code for d in read_divisions() if d.level == "community")
    stored = dict(
        conn.execute(
            text(
                "SELECT parent_code, count(*) FROM areas WHERE generation = :g AND level = 'community' "
                "GROUP BY parent_code"
            ),
            {"g": demo},
        ).all()
    )
    assert stored == dict(real)
    assert stored["370203020"] == 7  # 即墨路街道
    names = dict(conn.execute(text("SELECT code, name FROM areas WHERE generation = :g"), {"g": demo}).all())
    assert names["370203005"] == "辽宁路街道"
    assert names["370203005001"] == "科技街社区居委会"
    assert names["370203020009"] == "恩县路社区居委会"


_WORST_SEAM = """
SELECT max(abs(p.area_m2 - s.m2) / p.area_m2),
       max(ST_Area(ST_SymDifference(p.geom, s.u)::geography) / p.area_m2)
FROM areas p
JOIN (SELECT parent_code, sum(area_m2) AS m2, ST_Union(geom) AS u
      FROM areas WHERE generation = :g GROUP BY parent_code) s ON s.parent_code = p.code
WHERE p.generation = :g
"""


def test_children_tile_their_parent_exactly(conn: Connection, demo: int) -> None:
    assert check_generation(conn, demo) == []
    # Independently of the checker: the worst gap or overlap of any parent, as a share of it.
    worst = conn.execute(text(_WORST_SEAM), {"g": demo}).one()
    assert worst[0] < 1e-4 and worst[1] < 1e-4


def test_district_is_the_real_boundary(conn: Connection, demo: int) -> None:
    stored = shapely.from_wkb(
        conn.execute(
            text("SELECT ST_AsBinary(geom) FROM areas WHERE generation = :g AND level = 'district'"),
            {"g": demo},
        ).scalar_one()
    )
    real = boundary_wgs84()
    # stored at the 1e-7° (1 cm) grid it is served at: the shapes differ by under a centimetre
    assert shapely.area(shapely.symmetric_difference(stored, real)) / shapely.area(real) < 1e-5


def test_codes_follow_the_parent_and_reading_order(conn: Connection, demo: int) -> None:
    rows = conn.execute(
        text(
            "SELECT code, parent_code, ST_Y(ST_PointOnSurface(geom)) FROM areas "
            "WHERE generation = :g AND level = 'grid' ORDER BY code"
        ),
        {"g": demo},
    ).all()
    assert all(code.startswith(parent) and len(code) == 15 for code, parent, _ in rows)
    by_parent: dict[str, list[float]] = {}
    for _code, parent, y in rows:
        by_parent.setdefault(parent, []).append(y)
    # Serial 001 lies in the northern band of its community (DB11: north → south).
    assert sum(ys[0] >= sorted(ys)[len(ys) // 2] for ys in by_parent.values()) > 0.8 * len(by_parent)


def test_micro_grids_are_plausible_rounds(conn: Connection, demo: int) -> None:
    hh, area = conn.execute(
        text(
            "SELECT percentile_cont(ARRAY[0.05, 0.5, 0.95]) WITHIN GROUP (ORDER BY households), "
            "percentile_cont(ARRAY[0.05, 0.5, 0.95]) WITHIN GROUP (ORDER BY area_m2) "
            "FROM areas WHERE generation = :g AND level = 'micro_grid'"
        ),
        {"g": demo},
    ).one()
    assert hh[0] >= 30 and hh[2] <= 100  # households per micro-grid: a 3-hour round
    assert area[0] >= 1_000 and area[2] <= 60_000  # square metres
    total = conn.execute(
        text("SELECT households FROM areas WHERE generation = :g AND level = 'district'"), {"g": demo}
    ).scalar_one()
    assert total == 420_000


def test_same_seed_same_layers_other_seed_other_layers(
    conn: Connection, demo: int, test_settings: Settings
) -> None:
    again = {r.code: r for r in areas.at_served_precision(generate(test_settings.demo_seed))}
    stored = dict(
        conn.execute(
            text("SELECT code, ST_AsBinary(geom) FROM areas WHERE generation = :g"), {"g": demo}
        ).all()
    )
    assert set(again) == set(stored)
    assert all(shapely.to_wkb(again[c].geom) == bytes(wkb) for c, wkb in stored.items())
    other = {r.code: r.geom for r in generate(test_settings.demo_seed + 1) if r.level == "micro_grid"}
    assert sum(not shapely.equals_exact(other[c], again[c].geom, 0) for c in other if c in again) > 1000
