"""Cases and their histories partitioned by received month; their unique keys in a small table.

``incidents`` becomes range-partitioned by ``received_at`` and ``incident_events`` by
``case_received_at`` (new: the received time of the event's case), one table a month in the
schema ``partitions`` plus a default partition each (``layers.cases.partitions``). PostgreSQL
cannot keep a unique constraint on a partitioned table that leaves out the partition key, so
the case number and the idempotency key move their uniqueness to ``incident_keys`` (id,
number, idempotency key, received time), filled by a trigger on ``incidents``; the foreign keys
that pointed at ``incidents`` point there, cascading, so that retention's deletion of a key row
takes the rest of the case along. The append-only trigger of the history lets retention, and
nothing else, delete. Raw SQL: the conversion copies the tables as they are (``LIKE``), which
Alembic's operations do not express.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from layers.cases import partitions

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRERS = (  # (table, constraint): the foreign keys to a case outside its own two tables
    ("incident_reporters", "fk_incident_reporters_incident_id"),
    ("deliveries", "fk_deliveries_incident_id"),
    ("event_inbox", "fk_event_inbox_incident_id_incidents"),
)
MERGED_INDEX = (
    "CREATE INDEX ix_incidents_merged_into ON incidents (merged_into) WHERE merged_into IS NOT NULL"
)
INDEXED = ("number", "status", "category", "received_at", "street", "community", "grid", "unit", "asset_id")

KEY_TRIGGER = """
CREATE FUNCTION wangge_incident_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_keys (id, number, idempotency_key, received_at)
    VALUES (NEW.id, NEW.number, NEW.idempotency_key, NEW.received_at);
  RETURN NEW;
END $$;
CREATE TRIGGER incidents_key BEFORE INSERT ON incidents FOR EACH ROW EXECUTE FUNCTION wangge_incident_key();
CREATE FUNCTION wangge_incident_key_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a case''s number, idempotency key and received time never change'
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incidents_key_fixed BEFORE UPDATE OF number, idempotency_key, received_at ON incidents
  FOR EACH ROW WHEN (OLD.number IS DISTINCT FROM NEW.number OR OLD.idempotency_key IS DISTINCT FROM
  NEW.idempotency_key OR OLD.received_at IS DISTINCT FROM NEW.received_at)
  EXECUTE FUNCTION wangge_incident_key_fixed();
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION wangge_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME LIKE 'incident\\_events%'
     AND current_setting('wangge.retiring', true) = 'on' THEN
    RETURN OLD;  -- retention (layers.cases.partitions.retire), audited there
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""
APPEND_ONLY_BEFORE = """
CREATE OR REPLACE FUNCTION wangge_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _run(sql: str) -> None:
    op.execute(text(sql))


def _serial_after_copy(table: str) -> None:
    """The copy's identity continues after the copied ids, under the table's usual name."""
    sequence = op.get_bind().execute(text(f"SELECT pg_get_serial_sequence('{table}', 'id')")).scalar_one()
    if sequence != f"public.{table}_id_seq":
        _run(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
    _run(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
    )


def upgrade() -> None:
    conn = op.get_bind()
    _run(
        "CREATE TABLE incident_keys (id bigint NOT NULL, number text NOT NULL, idempotency_key text, "
        "received_at timestamptz NOT NULL, CONSTRAINT pk_incident_keys PRIMARY KEY (id), "
        "CONSTRAINT uq_incident_keys_number UNIQUE (number), "
        "CONSTRAINT uq_incident_keys_idempotency_key UNIQUE (idempotency_key))"
    )
    _run("CREATE INDEX ix_incident_keys_received_at ON incident_keys (received_at)")
    _run("INSERT INTO incident_keys SELECT id, number, idempotency_key, received_at FROM incidents")
    for table, constraint in REFERRERS:
        _run(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
    _run("ALTER TABLE incidents RENAME TO incidents_unpartitioned")
    _run("ALTER TABLE incident_events RENAME TO incident_events_unpartitioned")
    _run(
        "CREATE TABLE incidents (LIKE incidents_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING IDENTITY) PARTITION BY RANGE (received_at)"
    )
    _run(
        "CREATE TABLE incident_events (LIKE incident_events_unpartitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY, case_received_at timestamptz NOT NULL) PARTITION BY RANGE (case_received_at)"
    )
    _run(f"CREATE SCHEMA {partitions.SCHEMA}")
    for table in partitions.TABLES:
        _run(f"CREATE TABLE {partitions.SCHEMA}.{table}_default PARTITION OF {table} DEFAULT")
    now = datetime.now(UTC)
    oldest = conn.execute(text("SELECT min(received_at) FROM incident_keys")).scalar()
    partitions.ensure(conn, min(oldest or now, now), now + relativedelta(months=partitions.AHEAD))
    _run("INSERT INTO incidents SELECT * FROM incidents_unpartitioned")
    _run(
        "INSERT INTO incident_events SELECT e.*, i.received_at FROM incident_events_unpartitioned e "
        "JOIN incidents_unpartitioned i ON i.id = e.incident_id"
    )
    _run("DROP TABLE incident_events_unpartitioned")
    _run("DROP TABLE incidents_unpartitioned")
    for table in partitions.TABLES:
        _serial_after_copy(table)
    _run("ALTER TABLE incidents ADD CONSTRAINT pk_incidents PRIMARY KEY (id, received_at)")
    for column in INDEXED:
        _run(f"CREATE INDEX ix_incidents_{column} ON incidents ({column})")
    _run("CREATE INDEX ix_incidents_point ON incidents USING gist (point)")
    _run(MERGED_INDEX)  # the cascade from a retired case to its duplicates looks them up
    _run("ALTER TABLE incident_events ADD CONSTRAINT pk_incident_events PRIMARY KEY (id, case_received_at)")
    _run("CREATE INDEX ix_incident_events_incident ON incident_events (incident_id, id)")
    cascade = "REFERENCES incident_keys (id) ON DELETE CASCADE"
    _run(f"ALTER TABLE incidents ADD CONSTRAINT fk_incidents_id FOREIGN KEY (id) {cascade}")
    _run(f"ALTER TABLE incidents ADD CONSTRAINT fk_incidents_merged_into FOREIGN KEY (merged_into) {cascade}")
    _run(
        "ALTER TABLE incidents ADD CONSTRAINT fk_incidents_category FOREIGN KEY (category) "
        "REFERENCES categories (code)"
    )
    _run(
        f"ALTER TABLE incident_events ADD CONSTRAINT fk_incident_events_incident_id "
        f"FOREIGN KEY (incident_id) {cascade}"
    )
    for table, _ in REFERRERS:
        _run(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_incident_id FOREIGN KEY (incident_id) {cascade}")
    _run(KEY_TRIGGER)
    _run(APPEND_ONLY)
    _run(
        "CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events "
        "FOR EACH ROW EXECUTE FUNCTION wangge_append_only()"
    )


def downgrade() -> None:
    for table, _ in REFERRERS:
        _run(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_incident_id")
    _run("ALTER TABLE incidents RENAME TO incidents_partitioned")
    _run("ALTER TABLE incident_events RENAME TO incident_events_partitioned")
    _run(
        "CREATE TABLE incidents (LIKE incidents_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING IDENTITY)"
    )
    _run("INSERT INTO incidents SELECT * FROM incidents_partitioned")
    _run(
        "CREATE TABLE incident_events (LIKE incident_events_partitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY)"
    )
    _run("INSERT INTO incident_events SELECT * FROM incident_events_partitioned")
    _run("ALTER TABLE incident_events DROP COLUMN case_received_at")
    _run("DROP TABLE incident_events_partitioned")
    _run("DROP TABLE incidents_partitioned")
    _run(f"DROP SCHEMA {partitions.SCHEMA} CASCADE")
    _run("DROP FUNCTION wangge_incident_key_fixed()")
    _run("DROP FUNCTION wangge_incident_key()")
    _run("DROP TABLE incident_keys")
    for table in partitions.TABLES:
        _serial_after_copy(table)
    _run("ALTER TABLE incidents ADD CONSTRAINT pk_incidents PRIMARY KEY (id)")
    _run("ALTER TABLE incidents ADD CONSTRAINT uq_incidents_number UNIQUE (number)")
    _run("ALTER TABLE incidents ADD CONSTRAINT uq_incidents_idempotency_key UNIQUE (idempotency_key)")
    for column in INDEXED[1:]:
        _run(f"CREATE INDEX ix_incidents_{column} ON incidents ({column})")
    _run("CREATE INDEX ix_incidents_point ON incidents USING gist (point)")
    _run("ALTER TABLE incident_events ADD CONSTRAINT pk_incident_events PRIMARY KEY (id)")
    _run("CREATE INDEX ix_incident_events_incident ON incident_events (incident_id, id)")
    _run(
        "ALTER TABLE incidents ADD CONSTRAINT fk_incidents_merged_into FOREIGN KEY (merged_into) "
        "REFERENCES incidents (id)"
    )
    _run(
        "ALTER TABLE incidents ADD CONSTRAINT fk_incidents_category FOREIGN KEY (category) "
        "REFERENCES categories (code)"
    )
    _run(
        "ALTER TABLE incident_events ADD CONSTRAINT fk_incident_events_incident_id FOREIGN KEY (incident_id) "
        "REFERENCES incidents (id)"
    )
    for table, constraint in REFERRERS:
        _run(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} FOREIGN KEY (incident_id) "
            "REFERENCES incidents (id)"
        )
    _run(APPEND_ONLY_BEFORE)
    _run(
        "CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events "
        "FOR EACH ROW EXECUTE FUNCTION wangge_append_only()"
    )
