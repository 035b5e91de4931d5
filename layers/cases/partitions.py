"""Cases and their histories, partitioned by the Beijing month a case was received in.

``incidents`` (by ``received_at``) and ``incident_events`` (by ``case_received_at``, the
received time of the event's case, so that a month's cases and their histories leave
together) are range-partitioned by month: one table a month in the schema ``partitions``
(``partitions.incidents_202611``), and a default partition each that takes a row no month
holds yet, so an accepted case is never refused for want of a partition. What partitioning
cannot hold — the unique case number and idempotency key — lives in ``incident_keys``,
filled by a trigger on ``incidents``; every foreign key to a case points there.

This module is the partition job (``wangge incidents partitions``, the worker hourly, each
``wangge db up`` and the demo load): months exist from the oldest case to ``AHEAD`` months
past today; rows found in a default partition move to their month when it is made; retention
drops whole months. It is written here rather than taken from pg_partman (Debian
``postgresql-15-partman``) because wangge runs on whatever PostGIS a user points it at and
managed databases seldom offer that extension (nor the same version of its API); what the job
needs is a handful of native-partitioning statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, bindparam, select, text

from geo.errors import InvalidInput
from layers.accounts import audit
from layers.accounts.actors import Actor
from layers.cases.worktime import BEIJING
from layers.db.models import INCIDENT_KEYS

TABLES = {"incidents": "received_at", "incident_events": "case_received_at"}  # table: partition key
SCHEMA = "partitions"
AHEAD = 3  # months made ahead of today
SYSTEM = Actor("partition-job", "admin")
_MONTH = re.compile(r"^incidents_(\d{6})$")


def month_of(at: datetime) -> date:
    """The first day of ``at``'s Beijing month.

    >>> from datetime import timezone
    >>> month_of(datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))  # 00:30 on 1 December in Beijing
    datetime.date(2026, 12, 1)
    """
    return at.astimezone(BEIJING).date().replace(day=1)


def received_at(conn: Connection, case_id: int) -> datetime | None:
    """A case's partition key, from the small key table: a query that then names it reads one
    month's partition and is planned for that one alone (a query by id alone plans them all)."""
    return conn.execute(_RECEIVED, {"id": case_id}).scalar_one_or_none()


_RECEIVED = select(INCIDENT_KEYS.c.received_at).where(INCIDENT_KEYS.c.id == bindparam("id"))


def bounds(month: date) -> tuple[datetime, datetime]:
    """A month's partition bounds: Beijing midnight of its first day and of the next month's."""
    start = datetime(month.year, month.month, 1, tzinfo=BEIJING)
    return start, start + relativedelta(months=1)


def months(conn: Connection) -> list[date]:
    """The months that have their partitions, oldest first."""
    names = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename LIKE 'incidents\\_%'"),
        {"s": SCHEMA},
    ).scalars()
    found = (_MONTH.match(n) for n in names)
    return sorted(date(int(m[1][:4]), int(m[1][4:]), 1) for m in found if m)


def _name(table: str, month: date) -> str:
    return f"{SCHEMA}.{table}_{month:%Y%m}"


def _bound_sql(month: date) -> str:
    start, end = bounds(month)  # DDL takes no parameters; these literals come from a date
    return f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"


def _create(conn: Connection, table: str, month: date) -> int:
    """Make ``table``'s partition of ``month``; answers the rows moved to it from the default."""
    key, name, default = TABLES[table], _name(table, month), f"{SCHEMA}.{table}_default"
    start, end = bounds(month)
    waiting = conn.execute(
        text(f"SELECT count(*) FROM {default} WHERE {key} >= :a AND {key} < :b"),  # noqa: S608 (our names)
        {"a": start, "b": end},
    ).scalar_one()
    if not waiting:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES {_bound_sql(month)}"))
        return 0
    # The month's rows sit in the default partition, where PostgreSQL would refuse the new
    # bound: move them into a table of their own (the history's append-only trigger is off for
    # the move, which takes the default partition's lock until commit), then attach it.
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(text(f"ALTER TABLE {default} DISABLE TRIGGER USER"))
    moved = conn.execute(
        text(
            f"WITH gone AS (DELETE FROM {default} WHERE {key} >= :a AND {key} < :b RETURNING *) "  # noqa: S608
            f"INSERT INTO {name} SELECT * FROM gone"
        ),
        {"a": start, "b": end},
    ).rowcount
    conn.execute(text(f"ALTER TABLE {default} ENABLE TRIGGER USER"))
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES {_bound_sql(month)}"))
    return int(moved)


def ensure(conn: Connection, first: datetime, last: datetime) -> list[date]:
    """Make the partitions of every month from ``first``'s to ``last``'s that has none yet
    (rows waiting in a default partition move in); answers the months made."""
    have = set(months(conn))
    made: list[date] = []
    month, stop = month_of(first), month_of(last)
    while month <= stop:
        if month not in have:
            for table in TABLES:
                _create(conn, table, month)
            made.append(month)
        month += relativedelta(months=1)
    return made


@dataclass(frozen=True)
class Retired:
    months: list[date]
    cases: int


def retire(conn: Connection, before: date, actor: Actor = SYSTEM) -> Retired:
    """Retention: drop the months before ``before`` (their cases and histories go with their
    partitions, not row by row), then the key rows of those cases, which take along by
    cascade their reporters, deliveries and camera events, any of their rows that were still in
    a default partition, and the duplicates of later months merged into them. Audited."""
    if before > month_of(datetime.now(BEIJING)):
        raise InvalidInput(f"retention before {before:%Y-%m} would drop cases of this month", field="before")
    gone = [m for m in months(conn) if m < before]
    cutoff = bounds(before.replace(day=1))[0]
    for month in gone:
        for table in TABLES:
            conn.execute(text(f"DROP TABLE {_name(table, month)}"))
    conn.execute(text("SET LOCAL wangge.retiring = 'on'"))  # the one way history rows are deleted
    cases = conn.execute(
        text(
            "DELETE FROM incident_keys WHERE received_at < :c OR id IN (SELECT id FROM incidents "
            "WHERE status = 'duplicate' AND merged_into IN "
            "(SELECT id FROM incident_keys WHERE received_at < :c))"
        ),
        {"c": cutoff},
    ).rowcount
    conn.execute(text("SET LOCAL wangge.retiring = 'off'"))
    if gone or cases:
        audit.record(
            conn, actor, "incidents.retire", f"before {before:%Y-%m}",
            months=[f"{m:%Y-%m}" for m in gone], cases=cases,
        )  # fmt: skip
    return Retired(gone, int(cases))


@dataclass(frozen=True)
class Maintenance:
    made: list[date]
    retired: Retired | None

    def summary(self) -> str:
        made = ", ".join(f"{m:%Y-%m}" for m in self.made) or "none"
        gone = self.retired.months if self.retired else []
        cases = self.retired.cases if self.retired else 0
        dropped = ", ".join(f"{m:%Y-%m}" for m in gone) or "none"
        return f"months made: {made}; months retired: {dropped} ({cases:,} cases)"


def sizes(conn: Connection) -> list[tuple[str, int, int]]:
    """Each partition (the months, then ``default``) with its cases and history rows."""
    rows = []
    for name in [f"{m:%Y%m}" for m in months(conn)] + ["default"]:
        cases, events = (
            conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.{table}_{name}")).scalar_one()  # noqa: S608
            for table in TABLES
        )
        rows.append((name, int(cases), int(events)))
    return rows


def maintain(conn: Connection, now: datetime, retention_months: int | None) -> Maintenance:
    """The scheduled job: the months up to ``AHEAD`` past ``now`` exist (from the oldest case's,
    so none waits in a default partition), and with a retention the months before it go."""
    oldest = conn.execute(text("SELECT min(received_at) FROM incident_keys")).scalar()
    made = ensure(conn, min(oldest or now, now), now + relativedelta(months=AHEAD))
    retired = None
    if retention_months is not None:
        retired = retire(conn, month_of(now) - relativedelta(months=retention_months))
    return Maintenance(made, retired)
