"""Ten million cases partitioned by month: the list, the queue, the KPIs and a case by number,
beside the same queries on an unpartitioned copy of the same rows (same indexes) in the same run.

The cases are generated in SQL (``generate_series``) over the three years of the reference
cases, each in a real micro-grid, ~0.5 % of them still open; they go through the key trigger
as every case does. The unpartitioned copy is the tables as they were before migration 0018:
``CREATE TABLE … AS`` with the same indexes, in a schema of its own that the same query
functions read through ``search_path``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, text

from layers.accounts.actors import Actor
from layers.analytics import kpi
from layers.cases import partitions, queries, worktime

TARGET = 10_000_000
CHUNK = 500_000
STAFF = Actor("bench", "dispatcher")

FILL = """
INSERT INTO incidents (number, source, category, point, h3, located_by, inside, generation, street, community,
                       grid, micro_grid, unit, routed_by, status, received_at, responded_at, warn_at, deadline,
                       escalate_at, closed_at)
SELECT 'P' || lpad((:first + g)::text, 12, '0'), 'wechat', c.category, c.point, c.h3, 'coordinates', true,
       c.generation, c.street, c.community, c.grid, c.micro_grid, c.unit, 'territory',
       CASE WHEN random() < 0.005 THEN 'received' ELSE 'closed' END, t.at, t.at + interval '2 hours',
       t.at + interval '3 days', t.at + interval '4 days', t.at + interval '8 days',
       t.at + interval '1 day'
FROM generate_series(1, :n) g
CROSS JOIN LATERAL (SELECT CAST(:start AS timestamptz) + random() * (CAST(:end AS timestamptz) - :start)
                           + g * interval '0' AS at,
                           1 + floor(random() * :seeds)::int + g * 0 AS k) t  -- g: once a row
JOIN seeds c ON c.k = t.k
"""


def fill(engine: Engine, target: int = TARGET) -> int:
    """Add generated cases until there are ``target``; shows progress with an ETA."""
    with engine.begin() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM incident_keys")).scalar_one())
        span = conn.execute(text("SELECT min(received_at), max(received_at) FROM incidents")).one()
    missing = target - have
    started, done = time.perf_counter(), 0
    while done < missing:
        n = min(CHUNK, missing - done)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(
                text(
                    "CREATE TEMP TABLE seeds ON COMMIT DROP AS SELECT row_number() OVER () AS k, category, "
                    "point, h3, generation, street, community, grid, micro_grid, unit FROM "
                    "(SELECT * FROM incidents WHERE inside AND status <> 'duplicate' ORDER BY random() LIMIT 20000) s"
                )
            )
            seeds = conn.execute(text("SELECT count(*) FROM seeds")).scalar_one()
            conn.execute(
                text(FILL),
                {"first": have + done, "n": n, "start": span[0], "end": span[1], "seeds": seeds},
            )
        done += n
        rate = done / (time.perf_counter() - started)
        print(f"bench: cases {have + done:,}/{target:,}, {rate:,.0f}/s, ETA {(missing - done) / rate:.0f} s",
              flush=True)  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("ANALYZE incidents"))
        conn.execute(text("ANALYZE incident_keys"))
    return target


FLAT = "flat"
FLAT_INDEXED = (
    "number",
    "status",
    "category",
    "received_at",
    "street",
    "community",
    "grid",
    "unit",
    "asset_id",
)


def flat_copy(engine: Engine) -> None:
    """The cases and their histories as one plain table each, with the indexes they had."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text(f"CREATE SCHEMA {FLAT}"))
        for table in partitions.TABLES:
            conn.execute(text(f"CREATE TABLE {FLAT}.{table} AS SELECT * FROM public.{table}"))
        conn.execute(text(f"ALTER TABLE {FLAT}.incidents ADD PRIMARY KEY (id)"))
        conn.execute(text(f"ALTER TABLE {FLAT}.incidents ADD UNIQUE (number)"))
        for column in FLAT_INDEXED[1:]:
            conn.execute(text(f"CREATE INDEX ON {FLAT}.incidents ({column})"))
        conn.execute(text(f"CREATE INDEX ON {FLAT}.incidents USING gist (point)"))
        conn.execute(text(f"ALTER TABLE {FLAT}.incident_events ADD PRIMARY KEY (id)"))
        conn.execute(text(f"CREATE INDEX ON {FLAT}.incident_events (incident_id, id)"))
        conn.execute(text(f"ANALYZE {FLAT}.incidents"))
        conn.execute(text(f"ANALYZE {FLAT}.incident_events"))


def _times(conn: Connection, fn: Callable[[], Any], repeat: int = 15) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def _partitions_read(conn: Connection, fn: Callable[[], Any]) -> int:
    """How many case partitions the statements of ``fn`` read (EXPLAIN ANALYZE: nodes that ran)."""
    seen: list[tuple[str, Any]] = []
    raw = conn.connection.driver_connection

    def keep(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((sql, params))

    from sqlalchemy import event

    event.listen(conn, "before_cursor_execute", keep)
    try:
        fn()
    finally:
        event.remove(conn, "before_cursor_execute", keep)
    read: set[str] = set()
    with raw.cursor() as cur:
        for sql, params in seen:
            cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            todo = [cur.fetchone()[0][0]["Plan"]]
            while todo:
                node = todo.pop()
                todo.extend(node.get("Plans", []))
                name = node.get("Relation Name", "")
                if name.startswith("incidents_") and node.get("Actual Loops", 0) > 0:
                    read.add(name)
    return len(read)


def bench_partitions(engine: Engine) -> list[str]:
    fill(engine)
    print("bench: the unpartitioned copy …", flush=True)
    flat_copy(engine)
    today = datetime.now(worktime.BEIJING).date()
    month = today.replace(day=1)
    last = month - relativedelta(months=1)
    start, end = partitions.bounds(last)
    with engine.connect() as conn:
        number = conn.execute(text("SELECT number FROM incident_keys ORDER BY id DESC LIMIT 1")).scalar_one()
        months = len(partitions.months(conn))
        cases = conn.execute(text("SELECT count(*) FROM incident_keys")).scalar_one()
    work: list[tuple[str, Callable[[Connection], Any]]] = [
        ("the list, one month, newest first (page of 50 and its total)", lambda c: queries.listing(
            c, queries.Filters(since=start, until=end), limit=50, offset=0, actor=STAFF)),
        ("the queue: received and registered, by deadline (page of 50 and its total)", lambda c: queries.listing(
            c, queries.Filters(status=["received", "registered"]), limit=50, offset=0, sort="deadline",
            actor=STAFF)),
        ("KPIs of a month by street", lambda c: kpi.kpis(c, "street", last, month)),
        ("a case by its number, with its history", lambda c: queries.get(c, queries.id_of(c, number), STAFF)),
    ]  # fmt: skip
    rows = []
    with engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 0"))
        for label, fn in work:
            ours = _times(conn, lambda fn=fn: fn(conn))
            read = _partitions_read(conn, lambda fn=fn: fn(conn))
            conn.execute(text(f"SET search_path = {FLAT}, public"))
            flat = _times(conn, lambda fn=fn: fn(conn))
            conn.execute(text("SET search_path = public"))
            rows.append(
                f"| {label} | {flat[0]:.1f} / {flat[1]:.1f} | **{ours[0]:.1f} / {ours[1]:.1f}** | "
                f"{ours[0] / flat[0]:.2f}× | {read} of {months + 1} |"
            )
        conn.rollback()
    return [
        f"{cases:,} cases ({cases - 66_100:,} generated in SQL over the reference cases' three years, ~0.5 % open) "
        f"in {months} monthly partitions and a default; the history holds the reference cases' steps only. "
        "Baseline: the same rows and indexes as plain tables (the schema before migration 0018), read by the "
        "same query functions. Median / p95 of 15 runs, one connection, in process.",
        "",
        "| query | unpartitioned ms (p50 / p95) — baseline | partitioned ms (p50 / p95) | p50 ratio | "
        "partitions read |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ]


def retire_month(engine: Engine) -> str:
    """How long retention takes to drop the oldest month (rolled back)."""
    with engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 0"))
        first = partitions.months(conn)[0]
        start, end = partitions.bounds(first)
        n = conn.execute(
            text("SELECT count(*) FROM incident_keys WHERE received_at >= :a AND received_at < :b"),
            {"a": start, "b": end},
        ).scalar_one()
        t = time.perf_counter()
        partitions.retire(conn, first + relativedelta(months=1))
        took = time.perf_counter() - t
        conn.rollback()
    return (
        f"Retention dropping the oldest month ({first:%Y-%m}, {n:,} cases) took {took:.2f} s (rolled back)."
    )
