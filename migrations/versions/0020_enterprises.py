"""The district's enterprises: the register with both addresses located, monthly headcounts,
the register's changes, the daily push to streets and industry departments, street visits;
GB/T 4754 codes and the departments' table; webhooks may subscribe to ``enterprise.digest``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

_INSIDE = {p: f"{p}_micro_grid LIKE district || '%'" for p in ("reg", "op")}
_RESOLVED = " AND ".join(f"{p}_match IN ('exact', 'house_near', 'outside')" for p in ("reg", "op"))
SEPARATION_SQL = (  # as layers.db.models has it (a migration never imports the models)
    f"CASE WHEN NOT ({_RESOLVED}) THEN 'unresolved' "
    f"WHEN {_INSIDE['reg']} AND {_INSIDE['op']} AND reg_address_id = op_address_id THEN 'same' "
    f"WHEN {_INSIDE['reg']} AND {_INSIDE['op']} THEN 'inside_elsewhere' "
    f"WHEN {_INSIDE['reg']} THEN 'operating_outside' "
    f"WHEN {_INSIDE['op']} THEN 'registered_outside' ELSE 'both_outside' END"
)

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enterprise_departments",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("industries", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("labels", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_enterprise_departments")),
    )
    op.create_table(
        "industries",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("section", sa.String(length=1), nullable=False),
        sa.CheckConstraint("level IN ('section', 'division', 'class')", name=op.f("ck_industries_level")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_industries")),
    )
    op.create_table(
        "enterprise_digests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recipient_kind", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "recipient_kind IN ('street', 'department')", name=op.f("ck_enterprise_digests_recipient_kind")
        ),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_enterprise_digests_outbox_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_digests")),
        sa.UniqueConstraint(
            "day", "recipient_kind", "recipient", name="uq_enterprise_digests_day_recipient_kind_recipient"
        ),
    )
    op.create_geospatial_table(
        "enterprises",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_pairs", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("legal_form", sa.Text(), nullable=False),
        sa.Column("industry", sa.String(length=4), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("capital", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("founded", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=True),
        sa.Column("moved_in_on", sa.Date(), nullable=True),
        sa.Column("district", sa.String(length=6), nullable=False),
        sa.Column("reg_address", sa.Text(), nullable=False),
        sa.Column("reg_match", sa.Text(), nullable=False),
        sa.Column("reg_address_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "reg_geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("reg_micro_grid", sa.String(length=18), nullable=True),
        sa.Column("reg_elsewhere", sa.Text(), nullable=True),
        sa.Column("op_address", sa.Text(), nullable=False),
        sa.Column("op_match", sa.Text(), nullable=False),
        sa.Column("op_address_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "op_geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("op_micro_grid", sa.String(length=18), nullable=True),
        sa.Column("op_elsewhere", sa.Text(), nullable=True),
        sa.Column(
            "street",
            sa.String(length=9),
            sa.Computed(
                "CASE WHEN op_micro_grid LIKE district || '%' THEN left(op_micro_grid, 9) "
                "WHEN reg_micro_grid LIKE district || '%' THEN left(reg_micro_grid, 9) END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("separation", sa.Text(), sa.Computed(SEPARATION_SQL, persisted=True), nullable=False),
        sa.Column("legal_rep", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("generated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(status = '在营') = (status_on IS NULL)", name=op.f("ck_enterprises_status_on")),
        sa.CheckConstraint(
            "credit_code ~ '^[0-9A-HJ-NP-RT-UW-Y]{18}$'", name=op.f("ck_enterprises_credit_code")
        ),
        sa.CheckConstraint(
            "op_match IN ('exact', 'house_near', 'road', 'fuzzy', 'ambiguous', 'outside', 'none')",
            name=op.f("ck_enterprises_op_match"),
        ),
        sa.CheckConstraint(
            "reg_match IN ('exact', 'house_near', 'road', 'fuzzy', 'ambiguous', 'outside', 'none')",
            name=op.f("ck_enterprises_reg_match"),
        ),
        sa.CheckConstraint("status IN ('在营', '注销', '吊销', '迁出')", name=op.f("ck_enterprises_status")),
        sa.CheckConstraint("capital IS NULL OR capital >= 0", name=op.f("ck_enterprises_capital")),
        sa.ForeignKeyConstraint(["industry"], ["industries.code"], name=op.f("fk_enterprises_industry")),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("pk_enterprises")),
    )
    op.create_index("ix_enterprises_capital", "enterprises", ["capital"], unique=False)
    op.create_index("ix_enterprises_founded", "enterprises", ["founded"], unique=False)
    op.create_index("ix_enterprises_industry_status", "enterprises", ["industry", "status"], unique=False)
    op.create_index("ix_enterprises_status_separation", "enterprises", ["status", "separation"], unique=False)
    op.create_index("ix_enterprises_label", "enterprises", ["label"], unique=False)
    op.create_index(
        "ix_enterprises_name",
        "enterprises",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_enterprises_name_pairs", "enterprises", ["name_pairs"], unique=False, postgresql_using="gin"
    )
    op.create_geospatial_index(
        "ix_enterprises_op_geom",
        "enterprises",
        ["op_geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_enterprises_status_street", "enterprises", ["status", "street"], unique=False)
    op.create_table(
        "enterprise_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('registered', 'moved_in', 'deregistered', 'revoked', 'moved_out')",
            name=op.f("ck_enterprise_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_code"],
            ["enterprises.credit_code"],
            name=op.f("fk_enterprise_events_credit_code"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_events")),
        sa.UniqueConstraint("credit_code", "kind", "on", name="uq_enterprise_events_credit_code_kind_on"),
    )
    op.create_index("ix_enterprise_events_on", "enterprise_events", ["on"], unique=False)
    op.create_table(
        "enterprise_headcounts",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("counts", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.CheckConstraint(
            "extract(day FROM first_month) = 1", name=op.f("ck_enterprise_headcounts_first_month")
        ),
        sa.CheckConstraint(
            "0 <= ALL(counts) AND cardinality(counts) > 0", name=op.f("ck_enterprise_headcounts_counts")
        ),
        sa.ForeignKeyConstraint(
            ["credit_code"],
            ["enterprises.credit_code"],
            name=op.f("fk_enterprise_headcounts_credit_code"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("pk_enterprise_headcounts")),
    )
    op.create_table(
        "enterprise_visits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("street", sa.String(length=9), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_code"],
            ["enterprises.credit_code"],
            name=op.f("fk_enterprise_visits_credit_code"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_visits")),
    )
    op.create_index("ix_enterprise_visits_credit_code", "enterprise_visits", ["credit_code"], unique=False)
    op.create_table(
        "enterprise_digest_items",
        sa.Column("digest_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("recipient_kind", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["enterprise_digests.id"],
            name=op.f("fk_enterprise_digest_items_digest_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["enterprise_events.id"],
            name=op.f("fk_enterprise_digest_items_event_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest_id", "event_id", name=op.f("pk_enterprise_digest_items")),
        sa.UniqueConstraint(
            "recipient_kind",
            "recipient",
            "event_id",
            name="uq_enterprise_digest_items_recipient_kind_recipient_event_id",
        ),
    )

    _webhook_events(_EVENTS + ", 'enterprise.digest'")


_EVENTS = (
    "'case.created', 'case.status_changed', 'case.overdue', 'asset.status_changed', 'inspection.created'"
)


def _webhook_events(events: str) -> None:
    op.drop_constraint(op.f("ck_webhooks_events"), "webhooks", type_="check")
    op.create_check_constraint(op.f("ck_webhooks_events"), "webhooks", f"events <@ ARRAY[{events}]::text[]")


def downgrade() -> None:
    op.execute("UPDATE webhooks SET events = array_remove(events, 'enterprise.digest')")
    _webhook_events(_EVENTS)
    for table in (
        "enterprise_digest_items", "enterprise_visits", "enterprise_headcounts", "enterprise_events",
    ):  # fmt: skip
        op.drop_table(table)  # with their indexes
    op.drop_geospatial_table("enterprises")
    for table in ("enterprise_digests", "industries", "enterprise_departments"):
        op.drop_table(table)
