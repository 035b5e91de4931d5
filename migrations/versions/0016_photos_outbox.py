"""Photos, the outbox and its deliveries (webhooks, reporters told by SMS/WeChat/e-mail),
reporters' contact and consent to be told, and per-category duplicate radius and window.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# a manhole cover is one object (20 m, a week); a vendor moves on (100 m, a day); noise carries far
DUPLICATES = [
    ("C0100", 20.0, 168.0), ("E0501", 100.0, 24.0), ("E0507", 100.0, 24.0), ("E0510", 100.0, 24.0),
    ("E0301", 200.0, 72.0),
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "action_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_action_keys")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Text(), server_default=sa.text("gen_random_uuid()::text"), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_geospatial_table(
        "photos",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "gps",
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
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id ~ '^[0-9a-f]{64}$'", name=op.f("ck_photos_id")),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/heif')",
            name=op.f("ck_photos_media_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
    )
    op.create_index(
        "ix_photos_unattached",
        "photos",
        ["uploaded_at"],
        unique=False,
        postgresql_where=sa.text("attached_at IS NULL"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "events <@ ARRAY['case.created', 'case.status_changed', 'case.overdue', 'asset.status_changed', "
            "'inspection.created']::text[]",
            name=op.f("ck_webhooks_events"),
        ),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("ck_webhooks_url")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('webhook', 'sms', 'wechat', 'email')", name=op.f("ck_deliveries_channel")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'held', 'failed')", name=op.f("ck_deliveries_state")
        ),
        sa.ForeignKeyConstraint(["event"], ["outbox.id"], name=op.f("fk_deliveries_event")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_deliveries_incident_id")),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_deliveries_webhook_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event", "target", name="once"),
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('pending', 'sending')"),
    )
    op.create_index("ix_deliveries_incident", "deliveries", ["incident_id"], unique=False)
    op.add_column("categories", sa.Column("duplicate_m", sa.Float(), server_default="50", nullable=False))
    op.add_column("categories", sa.Column("duplicate_hours", sa.Float(), server_default="72", nullable=False))
    op.create_check_constraint("duplicate_m", "categories", "duplicate_m > 0 AND duplicate_m <= 5000")
    op.create_check_constraint(
        "duplicate_hours", "categories", "duplicate_hours > 0 AND duplicate_hours <= 8760"
    )
    for code, metres, hours in DUPLICATES:  # as layers/reference/categories.csv says for a new database
        op.execute(
            sa.text(
                "UPDATE categories SET duplicate_m = :m, duplicate_hours = :h WHERE code = :c"
            ).bindparams(m=metres, h=hours, c=code)
        )
    op.add_column("incidents", sa.Column("overdue_told", sa.DateTime(timezone=True), nullable=True))
    op.add_column("incident_reporters", sa.Column("email", sa.Text(), nullable=True))
    op.add_column(
        "incident_reporters",
        sa.Column("notify", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "incident_reporters",
        sa.Column("following", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("incident_reporters", "following")
    op.drop_column("incident_reporters", "notify")
    op.drop_column("incident_reporters", "email")
    op.drop_column("incidents", "overdue_told")
    op.drop_constraint(op.f("ck_categories_duplicate_hours"), "categories")
    op.drop_constraint(op.f("ck_categories_duplicate_m"), "categories")
    op.drop_column("categories", "duplicate_hours")
    op.drop_column("categories", "duplicate_m")
    op.drop_index("ix_deliveries_incident", table_name="deliveries")
    op.drop_index(
        "ix_deliveries_due",
        table_name="deliveries",
        postgresql_where=sa.text("state IN ('pending', 'sending')"),
    )
    op.drop_table("deliveries")
    op.drop_table("webhooks")
    op.drop_index(
        "ix_photos_unattached", table_name="photos", postgresql_where=sa.text("attached_at IS NULL")
    )
    op.drop_geospatial_table("photos")
    op.drop_table("outbox")
    op.drop_table("action_keys")
