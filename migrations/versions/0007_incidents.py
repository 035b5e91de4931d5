"""Incidents (cases): departments, categories, the responsibility matrix, cases,
their reporters and their append-only event log.

Categories and the matrix are data (editable), not code. A case stores the area
chain and generation it was located in, so figures by area stay as they were when
the case was filed. ``incident_events`` refuses UPDATE and DELETE: the history of a
case can only grow. Every case has at least one reporter row; a merged duplicate's
reporters are copied to the case it was merged into.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "received", "registered", "dispatched", "in_progress", "verifying", "closed",
    "rejected", "duplicate", "rework",
)  # fmt: skip
SOURCES = ("wechat", "hotline", "grid_worker", "camera", "photo_report", "open311")

APPEND_ONLY = """
CREATE FUNCTION wangge_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
  FOR EACH ROW EXECUTE FUNCTION wangge_append_only();
"""


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('district', 'owner', 'street')", name=op.f("ck_departments_kind")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("first", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), sa.ForeignKey("departments.code"), nullable=True),
        sa.Column("asset_kind", sa.Text(), nullable=True),
        sa.Column("deadline_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("working_time", sa.Boolean(), nullable=False),
        sa.Column("machine", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("code ~ '^[EC][0-9]{4}$'", name=op.f("ck_categories_code")),
        sa.CheckConstraint("kind IN ('event', 'component')", name=op.f("ck_categories_kind")),
        sa.CheckConstraint("first IN ('territory', 'owner')", name=op.f("ck_categories_first")),
        sa.CheckConstraint("deadline_hours > 0", name=op.f("ck_categories_deadline")),
    )
    op.create_table(
        "responsibilities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("area_code", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), sa.ForeignKey("categories.code"), nullable=True),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("escalation", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint("area_code ~ '^([0-9]{3}){2,6}$'", name=op.f("ck_responsibilities_area")),
    )
    op.execute(
        "ALTER TABLE responsibilities ADD CONSTRAINT uq_responsibilities_area_category "
        "UNIQUE NULLS NOT DISTINCT (area_code, category)"
    )
    op.create_table(
        "incident_numbers",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), sa.ForeignKey("categories.code"), nullable=False),
        sa.Column("appeal_type", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("photos", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "point",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.Column("located_by", sa.Text(), nullable=False),
        sa.Column("location_input", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("location_note", sa.Text(), nullable=True),
        sa.Column("inside", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=True),
        sa.Column("street", sa.Text(), nullable=True),
        sa.Column("community", sa.Text(), nullable=True),
        sa.Column("grid", sa.Text(), nullable=True),
        sa.Column("micro_grid", sa.Text(), nullable=True),
        sa.Column("asset_id", sa.Text(), nullable=True),
        sa.Column("camera_id", sa.Text(), nullable=True),
        sa.Column("machine_confidence", sa.Float(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("second_unit", sa.Text(), nullable=True),
        sa.Column("routed_by", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="received", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("merged_into", sa.BigInteger(), sa.ForeignKey("incidents.id"), nullable=True),
        sa.Column("handler", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_incidents_status")),
        sa.CheckConstraint(_in("source", SOURCES), name=op.f("ck_incidents_source")),
        sa.CheckConstraint(
            "appeal_type IS NULL OR appeal_type IN ('consult', 'complaint', 'suggestion', 'help')",
            name=op.f("ck_incidents_appeal_type"),
        ),
        sa.CheckConstraint("char_length(description) <= 2000", name=op.f("ck_incidents_description")),
        sa.CheckConstraint("cardinality(photos) <= 9", name=op.f("ck_incidents_photos")),
        sa.CheckConstraint(
            "(status = 'duplicate') = (merged_into IS NOT NULL)", name=op.f("ck_incidents_merged")
        ),
        sa.CheckConstraint(
            "warn_at <= deadline AND deadline <= escalate_at", name=op.f("ck_incidents_clock")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_incidents_number")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_incidents_idempotency_key")),
    )
    op.create_index("ix_incidents_point", "incidents", ["point"], postgresql_using="gist")
    for column in ("status", "category", "received_at", "street", "community", "grid", "unit", "asset_id"):
        op.create_index(f"ix_incidents_{column}", "incidents", [column])
    op.create_table(
        "incident_reporters",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("incident_id", sa.BigInteger(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("merged_from", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_incident_reporters_incident", "incident_reporters", ["incident_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("incident_id", sa.BigInteger(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("photos", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
    )
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "id"])
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("incident_events")
    op.execute("DROP FUNCTION IF EXISTS wangge_append_only()")
    op.drop_table("incident_reporters")
    op.drop_table("incidents")
    op.drop_table("incident_numbers")
    op.drop_table("responsibilities")
    op.drop_table("categories")
    op.drop_table("departments")
