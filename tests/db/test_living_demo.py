"""A demo that is alive on any day: cases that end at the moment of loading, a realistic open
queue, meaningful month-over-month tables, and a feed that files and works new cases through
the real intake path (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select, text

from api.settings import Settings
from geo.errors import Conflict
from layers.accounts.actors import Actor
from layers.analytics import aggregates
from layers.cases import workflow, worktime
from layers.grid.areas import AreaRecord
from layers.grid.index import AreaIndex
from layers.reference import feed
from layers.reference.incidents import TOTAL, generate_incidents
from tests.conftest import AS_OF

ROOT = Path(__file__).resolve().parents[2]
HOURS = worktime.WorkHours.parse("08:30-17:30")
OPEN = "status IN ('received', 'registered', 'dispatched', 'in_progress', 'verifying', 'rework')"
GENERATED = "description LIKE '生成%'"  # not the cases other tests file


def _queue(conn: Connection, at: datetime) -> tuple[int, int]:
    """(open generated cases received by ``at``, of them past their deadline at ``at``): the
    cases other tests file (today, after the fixed instant) are not the demo's queue."""
    row = conn.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE deadline < :at) FROM incidents "
            f"WHERE {OPEN} AND {GENERATED} AND received_at <= :at"
        ),
        {"at": at},
    ).one()
    return int(row[0]), int(row[1])


def _meaningful(conn: Connection, month: str) -> None:
    """Every street has cases in ``month`` and in the month before; no street falls by 100 %."""
    answer = aggregates.trends(conn, "street", month)
    streets = [r for r in answer["results"] if r["street"]]
    assert len(streets) == 22 and not answer["partial"]
    assert all(r["count"] > 0 and r["previous"] > 0 for r in streets), streets
    assert all(r["change_pct"] is None or r["change_pct"] > -60 for r in streets)


def _looks_alive(conn: Connection, as_of: datetime) -> None:
    newest, oldest, total = conn.execute(
        text(f"SELECT max(received_at), min(received_at), count(*) FROM incidents WHERE {GENERATED}")
    ).one()
    assert as_of - timedelta(hours=8) < newest <= as_of  # up to the moment of loading (nights are quiet)
    assert oldest >= as_of - timedelta(days=3 * 366) and total == TOTAL
    opened, overdue = _queue(conn, as_of)
    assert 20 <= opened <= 400, opened
    assert 0 < overdue / opened < 0.3, (opened, overdue)  # late closes are a few %, not 100 %
    thirds = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE ago < 30), count(*) FILTER (WHERE ago >= 30 AND ago < 60), "
            "count(*) FILTER (WHERE ago >= 60 AND ago < 90) "
            "FROM (SELECT extract(epoch FROM :a - received_at) / 86400 AS ago "
            f"FROM incidents WHERE {GENERATED}) AS c"
        ),
        {"a": as_of},
    ).one()
    assert min(thirds) > 0.6 * max(thirds), thirds  # a 90-day hotspot window is full to its end


def test_the_session_demo_as_of_a_fixed_past_instant(conn: Connection, demo: int) -> None:
    _looks_alive(conn, AS_OF)
    listed = {m["month"]: m for m in aggregates.months_with_data(conn)}
    assert "2026-11" not in listed and listed["2026-10"]["complete"]  # (other tests file cases today)
    assert aggregates.default_month(list(listed.values())) == "2026-10"
    _meaningful(conn, "2026-10")


@pytest.fixture
def reloaded(engine: Engine, demo: int, test_settings: Settings) -> Iterator[tuple[Connection, datetime]]:
    """The reference cases generated again as of now, in a transaction rolled back afterwards
    (the id sequence, which no rollback resets, is put back past every kept case)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        rows = conn.execute(
            text(
                "SELECT code, name, parent_code, households, ST_AsBinary(geom) FROM areas "
                "WHERE level = 'micro_grid' AND generation = :g ORDER BY code"
            ),
            {"g": demo},
        ).all()
        records = [
            AreaRecord(code, "micro_grid", name, parent, shapely.from_wkb(bytes(wkb)), households)
            for code, name, parent, households, wkb in rows
        ]
        now = conn.execute(select(func.now())).scalar_one()
        conn.execute(text("TRUNCATE incident_keys, incident_numbers CASCADE"))  # the cases with them
        index = AreaIndex(conn, demo)
        assert generate_incidents(conn, test_settings.demo_seed, records, index, as_of=now) == TOTAL
        try:
            yield conn, now
        finally:
            transaction.rollback()
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incidents', 'id'), "
                    "greatest((SELECT max(id) FROM incidents), 1))"
                )
            )
            conn.commit()


def test_the_demo_loaded_as_of_now_is_alive_too(reloaded: tuple[Connection, datetime]) -> None:
    conn, now = reloaded
    _looks_alive(conn, now)
    listed = aggregates.months_with_data(conn)
    month = aggregates.default_month(listed)
    assert month == f"{now.astimezone(worktime.BEIJING).replace(day=1) - timedelta(days=1):%Y-%m}"
    assert listed[-1]["month"] == f"{now.astimezone(worktime.BEIJING):%Y-%m}" and not listed[-1]["complete"]
    _meaningful(conn, month)


def test_the_month_picker_names_its_months(client: TestClient) -> None:
    months = client.get("/api/analytics/months").json()
    october = next(m for m in months["months"] if m["month"] == "2026-10")
    assert months["default"] == "2026-10" and october["complete"] and october["cases"] > 1000
    trend = client.get("/api/analytics/trends", params={"by": "street"}).json()
    assert trend["month"] == "2026-10" and trend["previous_month"] == "2026-09"
    empty = client.get("/api/analytics/trends", params={"by": "street", "month": "2019-01"})
    assert empty.status_code == 404 and empty.json()["error"]["field"] == "month"
    assert "no cases in 2019-01" in empty.json()["error"]["message"]
    assert "cases run from 2023-11" in empty.json()["error"]["message"]


# -- the feed --------------------------------------------------------------------------------


def _feed(conn: Connection, seed: int) -> feed.Feed:
    return feed.start(conn, seed, per_day=60, hours=HOURS, catch_up_days=1)


def test_the_feed_files_through_the_real_intake_path(
    conn: Connection, demo: int, test_settings: Settings
) -> None:
    seed = test_settings.demo_seed
    now = conn.execute(select(func.now())).scalar_one()
    running = _feed(conn, seed)
    since = running.cursor
    assert now - timedelta(days=1, minutes=1) < since < now  # the session's cases end a month ago: 1 day back
    filed = running.file_due(conn, now)
    assert 30 <= filed <= 100  # about a day's worth
    rows = conn.execute(
        text(
            "SELECT idempotency_key, located_by, inside, street, unit, routed_by, received_at, description, "
            "number FROM incidents WHERE idempotency_key LIKE 'demo-feed:%' ORDER BY received_at"
        )
    ).all()
    assert len(rows) == filed
    assert all(r.located_by == "coordinates" and r.routed_by != "needs_location" for r in rows)
    assert sum(r.inside for r in rows) >= 0.95 * filed and all(r.unit for r in rows)
    assert all(since < r.received_at <= now and r.description.startswith("生成") for r in rows)
    assert len({r.number for r in rows}) == filed
    # idempotent: the same hours filed again (a restarted feed) add nothing
    running.cursor = since
    assert running.file_due(conn, now) == 0
    assert (
        conn.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key LIKE 'demo-feed:%'")).scalar()
        == filed
    )
    # deterministic: the same seed plans the same day the same way
    day = now.astimezone(worktime.BEIJING).date()
    assert feed.plan(seed, day, 60, running.where) == feed.plan(seed, day, 60, running.where)


def test_the_feed_works_cases_along_their_timelines_and_leaves_hand_worked_ones(
    conn: Connection, demo: int, test_settings: Settings
) -> None:
    now = conn.execute(select(func.now())).scalar_one()
    running = _feed(conn, test_settings.demo_seed)
    running.file_due(conn, now)
    by_hand = conn.execute(
        text("SELECT id FROM incidents WHERE idempotency_key LIKE 'demo-feed:%' ORDER BY received_at LIMIT 1")
    ).scalar_one()
    workflow.transition(conn, by_hand, "rejected", Actor("disp1", "dispatcher"), "重复来电")
    steps = running.work_due(conn, now)
    assert steps > 0
    statuses = dict(
        conn.execute(
            text("SELECT status, count(*) FROM incidents WHERE idempotency_key LIKE 'demo-feed:%' GROUP BY 1")
        ).all()
    )
    assert sum(n for s, n in statuses.items() if s != "received") > statuses.get("received", 0)
    assert (
        conn.execute(text("SELECT status FROM incidents WHERE id = :i"), {"i": by_hand}).scalar()
        == "rejected"
    )
    # the loaded month-old open cases have been worked to their close as their timelines say
    assert _queue(conn, now)[1] < _queue(conn, now)[0]
    assert running.work_due(conn, now) == 0  # nothing more is due at this moment


def test_a_second_feed_refuses(engine: Engine, demo: int, test_settings: Settings) -> None:
    with engine.connect() as holder:
        holder.execute(select(func.pg_advisory_lock(func.hashtextextended(feed.LOCK, 0))))
        with pytest.raises(Conflict, match="already running"):
            feed.run(
                engine,
                test_settings.demo_seed,
                per_day=60,
                tick_s=0.01,
                catch_up_days=0,
                hours=HOURS,
                rounds=1,
            )
        env = {**os.environ, "DATABASE_URL": test_settings.sqlalchemy_url()}
        cli = subprocess.run(
            [sys.executable, "-m", "api.cli", "demo", "feed", "--rounds", "1"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert cli.returncode == 1 and "already running" in cli.stderr
        holder.execute(select(func.pg_advisory_unlock(func.hashtextextended(feed.LOCK, 0))))
