"""Re-locate assets on activation by one spatial join instead of a subquery per asset.

The per-asset subquery of 0004 let the planner AND the (generation, level) index into
every probe (7,082 micro-grids scanned per asset): 10–25 s for the reference district,
past the statement timeout on a slow machine. Joining micro-grids to assets through the
assets' point index does the same work in under a second, with or without fresh
statistics on the new generation's rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_JOIN = """
CREATE OR REPLACE FUNCTION wangge_relocate_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH located AS (
    SELECT s.id, min(a.code) AS code
      FROM areas a JOIN assets s ON ST_Covers(a.geom, s.point)
     WHERE a.generation = NEW.id AND a.level = 'micro_grid'
     GROUP BY s.id)
  UPDATE assets s SET generation = NEW.id, micro_grid = located.code
    FROM assets every LEFT JOIN located ON located.id = every.id
   WHERE every.id = s.id;
  RETURN NULL;
END $$;
"""

BY_SUBQUERY = """
CREATE OR REPLACE FUNCTION wangge_relocate_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assets s SET generation = NEW.id, micro_grid = (
    SELECT min(a.code) FROM areas a WHERE a.generation = NEW.id AND a.level = 'micro_grid'
      AND ST_Covers(a.geom, s.point));
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(BY_JOIN)


def downgrade() -> None:
    op.execute(BY_SUBQUERY)
