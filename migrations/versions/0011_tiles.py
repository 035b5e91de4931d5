"""Vector tiles: Web Mercator copies of the geometries, and a version per layer for the tile cache.

``geom_3857`` / ``point_3857`` are stored generated columns with their own GiST index, so a
tile query neither transforms nor scans: the one thing tipg cannot assume of a table.
``layer_versions`` holds one counter per layer, bumped by statement-level triggers on every
change of ``areas``, ``generations`` (which generation is active) and ``assets`` (any
column: tiles carry the status), so each worker can tell in one row read whether its
cached tiles are stale.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = """
CREATE FUNCTION wangge_bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE layer_versions SET version = version + 1 WHERE layer = TG_ARGV[0];
  RETURN NULL;
END $$;
CREATE TRIGGER areas_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON areas
  FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_layer_version('areas');
CREATE TRIGGER generations_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON generations
  FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_layer_version('areas');
CREATE TRIGGER assets_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assets
  FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_layer_version('assets');
"""


def upgrade() -> None:
    op.execute(
        "ALTER TABLE areas ADD COLUMN geom_3857 geometry(MultiPolygon, 3857) "
        "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED"
    )
    op.execute(
        "ALTER TABLE assets ADD COLUMN point_3857 geometry(Point, 3857) "
        "GENERATED ALWAYS AS (ST_Transform(point, 3857)) STORED"
    )
    op.create_index("ix_areas_geom_3857", "areas", ["geom_3857"], postgresql_using="gist")
    op.create_index("ix_assets_point_3857", "assets", ["point_3857"], postgresql_using="gist")
    op.create_table(
        "layer_versions",
        sa.Column("layer", sa.Text(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO layer_versions (layer, version) VALUES ('areas', 0), ('assets', 0)")
    op.execute(BUMP)


def downgrade() -> None:
    triggers = (("areas_tiles", "areas"), ("generations_tiles", "generations"), ("assets_tiles", "assets"))
    for trigger, table in triggers:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS wangge_bump_layer_version()")
    op.drop_table("layer_versions")
    op.drop_index("ix_assets_point_3857", table_name="assets")
    op.drop_index("ix_areas_geom_3857", table_name="areas")
    op.drop_column("assets", "point_3857")
    op.drop_column("areas", "geom_3857")
