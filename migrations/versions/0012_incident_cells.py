"""Each located case keeps its H3 cell (resolution 12) so hotspots aggregate in one GROUP BY.

Coarser cells are parents, computed in SQL by bit arithmetic (``geo.hexes.parent_sql``).
The CHECK makes every write path store it: a point without a cell is refused.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from geo.hexes import cells

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("h3", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, ST_X(point), ST_Y(point) FROM incidents WHERE point IS NOT NULL")
    ).all()
    if rows:
        ids, lons, lats = zip(*rows, strict=True)
        conn.execute(
            sa.text(
                "UPDATE incidents i SET h3 = c.h3 "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:cells AS bigint[])) AS c(id, h3) WHERE i.id = c.id"
            ),
            {"ids": list(ids), "cells": cells(lons, lats).tolist()},
        )
    op.create_check_constraint(
        op.f("ck_incidents_point_has_cell"), "incidents", "(point IS NULL) = (h3 IS NULL)"
    )


def downgrade() -> None:
    op.drop_constraint("ck_incidents_point_has_cell", "incidents")
    op.drop_column("incidents", "h3")
