"""The inbox of machine events (AI cameras, sensors): stored on arrival, folded into cases by
the worker; cameras get a status (in service / disabled).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_inbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("camera_id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("state", sa.Text(), server_default="new", nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('new', 'folded', 'created', 'rejected')", name=op.f("ck_event_inbox_state")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_event_inbox_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_inbox")),
        sa.UniqueConstraint("source", "event_id", name="uq_event_inbox_source_event_id"),
    )
    op.create_index("ix_event_inbox_new", "event_inbox", ["id"], postgresql_where=sa.text("state = 'new'"))
    op.create_index("ix_event_inbox_incident", "event_inbox", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_event_inbox_incident", table_name="event_inbox")
    op.drop_index("ix_event_inbox_new", table_name="event_inbox")
    op.drop_table("event_inbox")
