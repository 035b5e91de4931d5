"""The grid hierarchy: generations and areas (district → micro-grid).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LENGTHS = (
    "WHEN 'district' THEN 6 WHEN 'street' THEN 9 WHEN 'community' THEN 12 "
    "WHEN 'grid' THEN 15 WHEN 'micro_grid' THEN 18"
)


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="draft", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name=op.f("ck_generations_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index(
        "uq_generations_one_active",
        "generations",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "areas",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.String(length=18), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "area_m2",
            sa.Float(),
            sa.Computed("ST_Area(geom::geography)", persisted=True),
            nullable=False,
        ),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("worker_name", sa.Text(), nullable=True),
        sa.Column("worker_phone", sa.Text(), nullable=True),
        sa.Column("party_branch", sa.Text(), nullable=True),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('district', 'street', 'community', 'grid', 'micro_grid')",
            name=op.f("ck_areas_level"),
        ),
        sa.CheckConstraint("code ~ '^[0-9]+$'", name=op.f("ck_areas_code_digits")),
        sa.CheckConstraint(f"length(code) = CASE level {LENGTHS} END", name=op.f("ck_areas_code_length")),
        sa.CheckConstraint("(level = 'district') = (parent_code IS NULL)", name=op.f("ck_areas_root")),
        sa.CheckConstraint(
            "parent_code IS NULL OR parent_code = left(code, length(code) - 3)",
            name=op.f("ck_areas_code_extends_parent"),
        ),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_areas_geom_valid")),
        sa.CheckConstraint(
            "level = 'grid' OR (worker_name IS NULL AND worker_phone IS NULL AND party_branch IS NULL)",
            name=op.f("ck_areas_worker_on_grids"),
        ),
        sa.ForeignKeyConstraint(
            ["generation"], ["generations.id"], ondelete="CASCADE", name=op.f("fk_areas_generation")
        ),
        sa.ForeignKeyConstraint(
            ["generation", "parent_code"],
            ["areas.generation", "areas.code"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
            name=op.f("fk_areas_generation_parent_code"),
        ),
        sa.PrimaryKeyConstraint("generation", "code", name=op.f("pk_areas")),
    )
    op.create_index("ix_areas_geom", "areas", ["geom"], postgresql_using="gist")
    op.create_index("ix_areas_generation_level", "areas", ["generation", "level"])
    op.create_index("ix_areas_generation_parent_code", "areas", ["generation", "parent_code"])


def downgrade() -> None:
    op.drop_table("areas")
    op.drop_table("generations")
