"""Assets (部件) with 16-digit component IDs, located by the database.

A BEFORE trigger locates every asset written (its point → the active generation's
micro-grid, lowest code on shared edges, NULL outside); an AFTER trigger on
``generations`` re-locates every asset when another generation becomes active. So
no write path can forget either.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCATE = """
CREATE FUNCTION wangge_locate_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT g.id, (SELECT min(a.code) FROM areas a WHERE a.generation = g.id AND a.level = 'micro_grid'
                AND ST_Covers(a.geom, NEW.point))
    INTO NEW.generation, NEW.micro_grid
    FROM generations g WHERE g.status = 'active';
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER assets_locate BEFORE INSERT OR UPDATE OF point ON assets
  FOR EACH ROW EXECUTE FUNCTION wangge_locate_asset();

CREATE FUNCTION wangge_relocate_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assets s SET generation = NEW.id, micro_grid = (
    SELECT min(a.code) FROM areas a WHERE a.generation = NEW.id AND a.level = 'micro_grid'
      AND ST_Covers(a.geom, s.point));
  RETURN NULL;
END $$;
CREATE TRIGGER generations_relocate_assets AFTER UPDATE OF status ON generations
  FOR EACH ROW WHEN (NEW.status = 'active' AND OLD.status IS DISTINCT FROM 'active')
  EXECUTE FUNCTION wangge_relocate_assets();
"""


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subclass", sa.String(length=4), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "point",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "site",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("generation", sa.Integer(), nullable=True),
        sa.Column("micro_grid", sa.String(length=18), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id ~ '^[0-9]{16}$'", name=op.f("ck_assets_id_digits")),
        sa.CheckConstraint("substr(id, 7, 4) = subclass", name=op.f("ck_assets_id_subclass")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_index("ix_assets_point", "assets", ["point"], postgresql_using="gist")
    op.create_index("ix_assets_site", "assets", ["site"], postgresql_using="gist")
    op.create_index("ix_assets_kind", "assets", ["kind"])
    op.create_index("ix_assets_micro_grid", "assets", ["micro_grid"])
    op.execute(LOCATE)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS generations_relocate_assets ON generations")
    op.execute("DROP FUNCTION IF EXISTS wangge_relocate_assets()")
    op.drop_table("assets")
    op.execute("DROP FUNCTION IF EXISTS wangge_locate_asset()")
