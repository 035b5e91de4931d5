"""Inspections (patrol records) of assets and inspection campaigns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("area_code", sa.String(length=18), nullable=False),
        sa.Column("road_segments", sa.Integer(), nullable=True),
        sa.Column("compounds", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint("ends >= starts", name=op.f("ck_campaigns_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(length=16), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("defect", sa.Text(), nullable=True),
        sa.Column("photo_url", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("result IN ('ok', 'defect')", name=op.f("ck_inspections_result")),
        sa.CheckConstraint("(result = 'defect') = (defect IS NOT NULL)", name=op.f("ck_inspections_defect")),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], ondelete="CASCADE", name=op.f("fk_inspections_asset_id")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], ondelete="SET NULL", name=op.f("fk_inspections_campaign_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index("ix_inspections_asset_id_inspected_at", "inspections", ["asset_id", "inspected_at"])
    op.create_index("ix_inspections_campaign_id", "inspections", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("inspections")
    op.drop_table("campaigns")
