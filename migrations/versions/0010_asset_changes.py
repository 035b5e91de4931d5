"""A counter of asset changes, so each worker can tell in one row read whether its asset index is stale.

A statement-level trigger bumps it on every INSERT, DELETE, TRUNCATE and UPDATE OF point
of ``assets`` (attribute updates, e.g. inspections, do not move anything).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = """
CREATE FUNCTION wangge_bump_asset_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE asset_changes SET version = version + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER assets_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF point ON assets
  FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_asset_changes();
"""


def upgrade() -> None:
    op.create_table("asset_changes", sa.Column("version", sa.BigInteger(), primary_key=True))
    op.execute("INSERT INTO asset_changes (version) VALUES (0)")
    op.execute(BUMP)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS assets_changed ON assets")
    op.execute("DROP FUNCTION IF EXISTS wangge_bump_asset_changes()")
    op.drop_table("asset_changes")
