"""The case workbench: browser sessions, saved filters, standard texts, background exports,
and the supervision columns of a case (督办, 延期, 挂账, 重新办理, repeat calls).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="running", nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("format IN ('csv', 'xlsx')", name=op.f("ck_export_jobs_format")),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name=op.f("ck_export_jobs_state")),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name=op.f("fk_export_jobs_user_name")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 40", name=op.f("ck_saved_filters_name")),
        sa.CheckConstraint("char_length(query) <= 2000", name=op.f("ck_saved_filters_query")),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name=op.f("fk_saved_filters_user_name")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        sa.UniqueConstraint("user_name", "name", name=op.f("uq_saved_filters_user_name_name")),
    )
    op.create_table(
        "sessions",
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("csrf", sa.Text(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name=op.f("fk_sessions_user_name")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_name"), "sessions", ["user_name"], unique=False)
    op.create_table(
        "phrases",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("char_length(text) BETWEEN 1 AND 200", name=op.f("ck_phrases_text")),
        sa.ForeignKeyConstraint(["category"], ["categories.code"], name=op.f("fk_phrases_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phrases")),
    )
    op.create_index("ix_phrases_action", "phrases", ["action", "category"], unique=False)
    op.add_column(
        "categories", sa.Column("max_extension_hours", sa.Numeric(precision=8, scale=2), nullable=True)
    )
    op.add_column("incidents", sa.Column("urged", sa.Integer(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("repeats", sa.Integer(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("rounds", sa.Integer(), server_default="1", nullable=False))
    op.add_column("incidents", sa.Column("round_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("incidents", sa.Column("extended_hours", sa.Float(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("paused_hours", sa.Float(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("extension_hours", sa.Float(), nullable=True))
    op.add_column("incidents", sa.Column("extension_reason", sa.Text(), nullable=True))
    op.add_column("incidents", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("incidents", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column("incidents", sa.Column("suspend_reason", sa.Text(), nullable=True))
    op.create_check_constraint("suspended", "incidents", "(suspended_at IS NULL) = (review_on IS NULL)")
    op.create_check_constraint("extension", "incidents", "(extension_hours IS NULL) OR extension_hours > 0")


def downgrade() -> None:
    op.drop_constraint("ck_incidents_extension", "incidents")
    op.drop_constraint("ck_incidents_suspended", "incidents")
    op.drop_column("incidents", "suspend_reason")
    op.drop_column("incidents", "review_on")
    op.drop_column("incidents", "suspended_at")
    op.drop_column("incidents", "extension_reason")
    op.drop_column("incidents", "extension_hours")
    op.drop_column("incidents", "paused_hours")
    op.drop_column("incidents", "extended_hours")
    op.drop_column("incidents", "round_started_at")
    op.drop_column("incidents", "rounds")
    op.drop_column("incidents", "repeats")
    op.drop_column("incidents", "urged")
    op.drop_column("categories", "max_extension_hours")
    op.drop_index("ix_phrases_action", table_name="phrases")
    op.drop_table("phrases")
    op.drop_index(op.f("ix_sessions_user_name"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("saved_filters")
    op.drop_table("export_jobs")
