"""Cases partitioned by received month: the case system's queries prune and keep their indexes,
retention drops months, rows waiting in a default partition move to their month, and the
unique keys hold across partitions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from geo.errors import InvalidInput
from layers.accounts.actors import Actor
from layers.cases import categories, intake, numbers, partitions, worktime
from layers.cases.intake import IncidentIn
from layers.grid.index import AreaIndex

OCTOBER = "incidents_202610"  # the demo's cases end on 1 November 2026 (tests/conftest.AS_OF)


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """The SQL the app runs meanwhile (on any engine), with its parameters."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        seen.append((sql, params))

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", keep)


def _plan(conn: Connection, sql: str, params: Any) -> list[dict[str, Any]]:
    """Every node of the statement's plan as run (a partition pruned while running has no loops)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (row,) = cur.fetchone()
    plan = row if isinstance(row, list) else json.loads(row)
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def _case_plans(client: TestClient, engine: Engine, path: str, headers: dict[str, str]) -> list[list[dict]]:
    with statements() as seen:
        got = client.get(path, headers=headers)
    assert got.status_code == 200, got.text
    with engine.connect() as conn:
        return [
            _plan(conn, sql, params)
            for sql, params in seen
            if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "incidents" in sql
        ]


def _scans(plans: list[list[dict]]) -> list[tuple[str, str, str | None]]:
    """(node type, relation, index) of each scan of a case partition that ran."""
    return [
        (n["Node Type"], n["Relation Name"], n.get("Index Name"))
        for plan in plans
        for n in plan
        if n.get("Relation Name", "").startswith(("incidents_", "incident_events_")) and n["Actual Loops"] > 0
    ]


def test_a_month_of_the_list_reads_that_month_by_index(
    client: TestClient, engine: Engine, accounts: dict[str, dict[str, str]]
) -> None:
    path = "/api/incidents?since=2026-10-01T00:00:00%2B08:00&until=2026-11-01T00:00:00%2B08:00&limit=50"
    scans = _scans(_case_plans(client, engine, path, accounts["disp1"]))
    assert scans and {relation for _, relation, _ in scans} == {OCTOBER}  # pruned to October
    page = [s for s in scans if s[0] in ("Index Scan", "Index Scan Backward", "Index Only Scan")]
    assert any(index and index.endswith("received_at_idx") for _, _, index in page), scans


def test_the_queue_uses_the_status_index_in_every_month(
    client: TestClient, engine: Engine, accounts: dict[str, dict[str, str]]
) -> None:
    path = "/api/incidents?status=received&status=registered&sort=deadline&limit=50"
    scans = _scans(_case_plans(client, engine, path, accounts["disp1"]))
    with engine.connect() as conn:
        filled = {
            f"incidents_{name}" for name, cases, _ in partitions.sizes(conn) if cases > 500
        }  # a small partition is read whole, as it should be
    assert len(filled) >= 30
    read = {relation for _, relation, _ in scans if relation in filled}
    assert read == filled  # the queue has no month: every month is looked at ...
    unindexed = [s for s in scans if s[1] in filled and s[0] == "Seq Scan"]
    assert not unindexed, unindexed  # ... through its index


def test_kpis_of_a_month_read_that_month_and_its_history(
    client: TestClient, engine: Engine, accounts: dict[str, dict[str, str]]
) -> None:
    scans = _scans(_case_plans(client, engine, "/api/stats/kpi?by=street&month=2026-10", accounts["disp1"]))
    assert {r for _, r, _ in scans if r.startswith("incidents_")} == {OCTOBER}
    history = {r for _, r, _ in scans if r.startswith("incident_events_")}
    assert history == {"incident_events_202610"}  # the month's history, read once


def test_a_case_page_reads_its_month_alone(
    client: TestClient, engine: Engine, accounts: dict[str, dict[str, str]]
) -> None:
    with engine.connect() as conn:
        case_id = conn.execute(
            text("SELECT id FROM incident_keys WHERE received_at >= '2026-10-10' ORDER BY id LIMIT 1")
        ).scalar_one()
    scans = _scans(_case_plans(client, engine, f"/api/incidents/{case_id}", accounts["disp1"]))
    assert scans and {r for _, r, _ in scans} <= {OCTOBER, "incident_events_202610"}
    assert all(kind != "Seq Scan" for kind, _, _ in scans), scans


def _received(conn: Connection, month: date) -> int:
    start, end = partitions.bounds(month)
    return int(
        conn.execute(
            text("SELECT count(*) FROM incident_keys WHERE received_at >= :a AND received_at < :b"),
            {"a": start, "b": end},
        ).scalar_one()
    )


def test_retention_drops_whole_months(conn: Connection, demo: int) -> None:
    first = partitions.months(conn)[0]
    second = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    gone = _received(conn, first)
    assert gone > 0
    before = conn.execute(text("SELECT count(*) FROM incident_keys")).scalar_one()
    done = partitions.retire(conn, second)
    assert done.months == [first] and done.cases == gone
    assert partitions.months(conn)[0] == second
    assert not conn.execute(
        text("SELECT 1 FROM pg_tables WHERE schemaname = 'partitions' AND tablename = :t"),
        {"t": f"incidents_{first:%Y%m}"},
    ).first()  # the table went, not its rows one by one
    assert conn.execute(text("SELECT count(*) FROM incident_keys")).scalar_one() == before - gone
    orphans = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM incident_reporters r WHERE NOT EXISTS "
            "(SELECT 1 FROM incident_keys k WHERE k.id = r.incident_id)) + "
            "(SELECT count(*) FROM incidents i WHERE NOT EXISTS "
            "(SELECT 1 FROM incident_keys k WHERE k.id = i.id))"
        )
    ).scalar_one()
    assert orphans == 0
    audit = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'incidents.retire'")).scalar_one()
    assert audit["cases"] == gone
    with pytest.raises(ProgrammingError, match="append-only"):  # outside retention, history stays
        conn.execute(text("DELETE FROM incident_events WHERE id = (SELECT min(id) FROM incident_events)"))


def test_retention_never_reaches_this_month(conn: Connection) -> None:
    with pytest.raises(InvalidInput, match="this month"):
        partitions.retire(conn, date(2099, 1, 1))


def test_a_case_past_the_made_months_waits_in_the_default_and_moves_in(conn: Connection, demo: int) -> None:
    later = datetime(2031, 5, 20, 10, tzinfo=worktime.BEIJING)
    case_id = intake.create(
        conn, AreaIndex(conn, demo), categories.load(conn),
        IncidentIn(source="hotline", category="E0101", lon=120.36, lat=36.09, crs="wgs84", description="x"),
        actor=Actor("d", "dispatcher"), work_hours=worktime.WorkHours.parse("08:30-17:30"), now=later,
    ).id  # fmt: skip
    where = "SELECT tableoid::regclass::text FROM {} WHERE {} = :i"
    assert conn.execute(text(where.format("incidents", "id")), {"i": case_id}).scalar_one() == (
        "partitions.incidents_default"
    )
    assert partitions.ensure(conn, later, later) == [date(2031, 5, 1)]
    assert conn.execute(text(where.format("incidents", "id")), {"i": case_id}).scalar_one() == (
        "partitions.incidents_203105"
    )
    homes = conn.execute(text(where.format("incident_events", "incident_id")), {"i": case_id}).scalars().all()
    assert homes == ["partitions.incident_events_203105"]
    assert conn.execute(text("SELECT count(*) FROM partitions.incidents_default")).scalar_one() == 0
    with pytest.raises(ProgrammingError, match="append-only"):  # the moved history is guarded again
        conn.execute(text("DELETE FROM incident_events WHERE incident_id = :i"), {"i": case_id})


def test_numbers_and_keys_stay_unique_across_months(conn: Connection, demo: int) -> None:
    old = conn.execute(text("SELECT number, received_at FROM incident_keys ORDER BY id LIMIT 1")).one()
    copy = (
        "INSERT INTO incidents (number, source, category, located_by, unit, routed_by, received_at, "
        "warn_at, deadline, escalate_at) SELECT :n, source, category, located_by, unit, routed_by, "
        "now(), warn_at, deadline, escalate_at FROM incidents WHERE number = :n"
    )
    conn.execute(text("SAVEPOINT s"))
    with pytest.raises(IntegrityError, match="uq_incident_keys_number"):  # another month, same number
        conn.execute(text(copy), {"n": old.number})
    conn.execute(text("ROLLBACK TO SAVEPOINT s"))
    with pytest.raises(ProgrammingError, match="never change"):
        conn.execute(text("UPDATE incidents SET received_at = now() WHERE number = :n"), {"n": old.number})


def test_numbers_are_the_days_serials_past_seven_digits_too(conn: Connection, demo: int) -> None:
    day = datetime(2031, 6, 2, 9, tzinfo=worktime.BEIJING)
    index, catalogue = AreaIndex(conn, demo), categories.load(conn)

    def file() -> tuple[str, str, int]:
        case_id = intake.create(
            conn, index, catalogue,
            IncidentIn(source="hotline", category="E0101", lon=120.36, lat=36.09, description="n"),
            actor=Actor("d", "dispatcher"), work_hours=worktime.WorkHours.parse("08:30-17:30"), now=day,
        ).id  # fmt: skip
        found = text(
            "SELECT number, (SELECT count(*) FROM incident_events WHERE incident_id = :i), "
            "(SELECT source FROM incident_reporters WHERE incident_id = :i) FROM incidents WHERE id = :i"
        )
        row = conn.execute(found, {"i": case_id}).one()
        return row[0], row[2], row[1]

    assert file() == (numbers.case_number(day.date(), 1), "hotline", 1)
    assert file()[0] == numbers.case_number(day.date(), 2) == "203106020000002"
    conn.execute(text("UPDATE incident_numbers SET last = 9999999 WHERE day = '2031-06-02'"))
    assert file()[0] == numbers.case_number(day.date(), 10_000_000) == "2031060210000000"
