"""The enterprise register's speed (issue 19): the combined search over 160,000 firms, the
separation check cold, a day's digest and the cockpit's first render, each beside a plain SQL
baseline of the same question in the same run.

The search baseline is plain SQL of the same question, the obvious way: the filters' count and
a page of 50 in credit-code order, as literal SQL straight on psycopg (no API, no JSON). ``python -m
bench.enterprises`` measures the database ``WANGGE_*`` points at (one with the register).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Engine, func, select, text
from sqlalchemy.dialects import postgresql

from api.settings import Settings
from bench.server import uvicorn_server
from layers.enterprises import digest, queries

USER, PASSWORD = "bench_planner", "bench password 1"
RUNS = 30
COMBINATIONS: list[dict[str, Any]] = [
    {},
    {"q": "慧和"},
    {"q": "91370203MA"},
    {"industry": "65", "status": "在营"},
    {"industry": "I"},
    {"label": "数字经济", "capital_min": 100, "founded_from": "2020-01-01"},
    {"status": "在营", "street": "370203034"},
    {"separation": "operating_outside", "street": "370203034"},
    {"separation": "separated"},
    {"status": "在营", "capital_min": 1000, "capital_max": 5000, "founded_to": "2010-01-01"},
    {"label": "航运贸易", "status": "在营", "separation": "inside_elsewhere"},
    {"q": "科技", "status": "在营", "label": "科技服务"},
    {"abnormal": True, "status": "在营"},
    {"change": "registered", "changed_from": "2026-01-01"},
]


def _ms(times: list[float]) -> tuple[float, float]:
    return float(np.median(times)) * 1000, float(np.percentile(times, 95)) * 1000


def _filters(params: dict[str, Any]) -> queries.Filters:
    typed: dict[str, Any] = {
        k: date.fromisoformat(v) if k.startswith(("founded_", "changed_")) else v for k, v in params.items()
    }
    return queries.Filters(**typed)


def _plain(engine: Engine, chosen: queries.Filters) -> list[float]:
    """The filters' count and a page of 50 as literal SQL on the raw driver."""
    where = chosen.where()
    count = select(func.count()).select_from(queries.ENTERPRISES).where(*where)
    page = select(*queries.firm_columns(False)).where(*where).order_by(queries.E.credit_code).limit(50)
    statements = [str(s.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
                  for s in (count, page)]  # fmt: skip
    times = []
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        for _ in range(RUNS):
            t = time.perf_counter()
            with raw.cursor() as cur:
                for s in statements:
                    cur.execute(s.replace("%%", "%"))
                    cur.fetchall()
            times.append(time.perf_counter() - t)
    return times


def _account(engine: Engine) -> None:
    from layers.accounts import users

    with engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": USER}).first():
            users.add(conn, USER, "planner", PASSWORD, None)


def bench_enterprises(settings: Settings, engine: Engine) -> list[str]:
    _account(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE enterprises"))  # as `wangge demo load` leaves it
    env = {"DATABASE_URL": settings.sqlalchemy_url(), "WANGGE_PHOTO_DIR": str(settings.photo_root)}
    lines = [
        "| search (HTTP, page of 50 + total) | matched | p50 ms | p95 ms | plain SQL p50 / p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    all_http: list[float] = []
    all_plain: list[float] = []
    with uvicorn_server(env) as base, httpx.Client(base_url=base, timeout=60) as client:
        got = client.post("/api/session", data={"username": USER, "password": PASSWORD})
        assert got.status_code == 200, got.text
        t = time.perf_counter()
        first = client.get("/api/enterprises/separation", params={"by": "street"})
        separation_cold = time.perf_counter() - t
        assert first.status_code == 200 and first.json()["separated"] == 8_576, first.text
        for params in COMBINATIONS:
            times, matched = [], 0
            for _ in range(RUNS):
                t = time.perf_counter()
                got = client.get("/api/enterprises", params={**params, "limit": 50})
                times.append(time.perf_counter() - t)
                assert got.status_code == 200, got.text
                matched = got.json()["total"]
            plain = _plain(engine, _filters(params))
            all_http += times
            all_plain += plain
            (p50, p95), (b50, b95) = _ms(times), _ms(plain)
            label = ", ".join(f"{k}={v}" for k, v in params.items()) or "no filter"
            lines.append(f"| {label} | {matched:,} | {p50:.1f} | {p95:.1f} | {b50:.1f} / {b95:.1f} |")
        (h50, h95), (b50, b95) = _ms(all_http), _ms(all_plain)
        lines += [
            f"| **every combination** | | **{h50:.1f}** | **{h95:.1f}** | {b50:.1f} / {b95:.1f} |",
            "",
            f"Search over {first.json()['operating']:,} operating of 160,000 firms: p95 **{h95:.1f} ms** over HTTP "
            f"(target ≤ 100 ms), the same SQL straight on the driver p95 {b95:.1f} ms "
            f"(**{h95 / b95:.2f}×**).",
            "",
        ]
        t = time.perf_counter()
        cockpit = client.get("/cockpit")
        cockpit_s = time.perf_counter() - t
        assert cockpit.status_code == 200 and "8,576" in cockpit.text
        t = time.perf_counter()
        client.get("/cockpit")
        cockpit_warm = time.perf_counter() - t
    with engine.connect() as conn:
        t = time.perf_counter()
        conn.execute(
            text("SELECT street, separation, count(*) FROM enterprises WHERE status = '在营' GROUP BY 1, 2")
        ).all()
        plain_separation = time.perf_counter() - t
        t = time.perf_counter()
        queries.separation(conn, "street")
        t2 = time.perf_counter() - t
    day = _busiest_weekday(engine)
    with engine.connect() as conn:
        tx = conn.begin()
        t = time.perf_counter()
        made = digest.make(conn, day, day + timedelta(days=2))
        digest_s = time.perf_counter() - t
        tx.rollback()
        t = time.perf_counter()
        conn.execute(
            text('SELECT e.id, f.street, f.industry FROM enterprise_events e JOIN enterprises f USING (credit_code) '
                 'WHERE e."on" = :d'), {"d": day}
        ).all()  # fmt: skip
        plain_day = time.perf_counter() - t
    lines += [
        "| what | measured | baseline in the same run |",
        "|---|---:|---|",
        f"| the separation check, first request of a fresh server (by street) | {separation_cold * 1000:.0f} ms | "
        f"plain `GROUP BY street, separation` {plain_separation * 1000:.0f} ms; in process again {t2 * 1000:.0f} ms |",
        f"| the digest of {day} ({made.events} changes → {made.records} records, {made.digests} recipients) | "
        f"{digest_s * 1000:.0f} ms | the day's changes read by plain SQL {plain_day * 1000:.1f} ms |",
        f"| the cockpit's first render (HTML with every chart) | {cockpit_s * 1000:.0f} ms | "
        f"drawn again on the same data (cached) {cockpit_warm * 1000:.0f} ms |",
        "",
        "Targets: separation ≤ 2 s cold, digest ≤ 1 s, cockpit first render ≤ 1.5 s.",
    ]
    return lines


def _busiest_weekday(engine: Engine) -> date:
    with engine.connect() as conn:
        return conn.execute(
            text('SELECT "on" FROM enterprise_events WHERE extract(isodow FROM "on") < 6 '
                 'GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1')
        ).scalar_one()  # fmt: skip


if __name__ == "__main__":
    from api.db import make_engine

    s = Settings()
    print("\n".join(bench_enterprises(s, make_engine(s))))
