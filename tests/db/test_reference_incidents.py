"""The 66,100 generated reference cases: volume, patterns, KPIs near the published ones."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, text

from layers.analytics import kpi
from layers.reference.district import DISTRICTS
from layers.reference.incidents import TOTAL, span
from tests.conftest import AS_OF


def test_volume_and_labels(conn: Connection, demo: int) -> None:
    generated = conn.execute(
        text("SELECT count(*) FROM incidents WHERE description LIKE '生成%'")
    ).scalar_one()
    assert generated == TOTAL == 66_100
    numbers = conn.execute(text("SELECT count(DISTINCT number) FROM incidents")).scalar_one()
    assert numbers == conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()


def test_kpis_are_near_the_published_ones(conn: Connection, demo: int) -> None:
    (row,) = [
        r
        for r in kpi.kpis(conn, "source", span(AS_OF)[0], date(2026, 11, 1))
        if r["source"] == "hotline"  # citizen appeals: the published figures are the 12345 platform's
    ]
    assert row["response_rate"] == pytest.approx(0.9903, abs=0.004)
    assert row["resolution_rate"] == pytest.approx(0.9981, abs=0.004)
    assert row["satisfaction_rate"] == pytest.approx(0.9983, abs=0.003)


def test_summer_peaks_for_vending_and_barbecue(conn: Connection, demo: int) -> None:
    by_month = dict(
        conn.execute(
            text(
                "SELECT extract(month FROM received_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) "
                "FROM incidents WHERE category = 'E0510' GROUP BY 1"
            )
        ).all()
    )
    assert by_month[7] + by_month[8] > 5 * (by_month[1] + by_month[2])
    vending = dict(
        conn.execute(
            text(
                "SELECT extract(month FROM received_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) "
                "FROM incidents WHERE category = 'E0501' GROUP BY 1"
            )
        ).all()
    )
    assert vending[7] > 2 * vending[1]


def test_commercial_street_and_construction_clusters(conn: Connection, demo: int) -> None:
    share = conn.execute(
        text(
            "SELECT avg((street = :s)::int) FILTER (WHERE category = 'E0504'), "
            "avg((street = :s)::int) FILTER (WHERE category = 'E0505') FROM incidents"
        ),
        {"s": DISTRICTS["370203"].commercial_street},
    ).one()
    assert share[0] > 2 * share[1]  # shop spill-over concentrates on the pedestrian street
    top = (
        conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE category = 'E0301' "
                "GROUP BY micro_grid ORDER BY 1 DESC LIMIT 14"
            )
        )
        .scalars()
        .all()
    )
    median = conn.execute(
        text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM "
            "(SELECT count(*) AS n FROM incidents WHERE category = 'E0301' GROUP BY micro_grid) x"
        )
    ).scalar_one()
    assert min(top) > 10 * median  # construction noise piles up around the sites


def test_cases_are_located_as_postgis_says(conn: Connection, demo: int) -> None:
    wrong = conn.execute(
        text(
            "SELECT count(*) FROM (SELECT * FROM incidents WHERE point IS NOT NULL ORDER BY id LIMIT 3000) i "
            "WHERE i.micro_grid IS DISTINCT FROM (SELECT min(a.code) FROM areas a "
            "WHERE a.generation = i.generation "
            "AND a.level = 'micro_grid' AND ST_Covers(a.geom, i.point))"
        )
    ).scalar_one()
    assert wrong == 0
