"""Areas at the precision they are served: each generation's levels snapped to 1e-7° as coverages.

Data only: areas imported or generated from now on are snapped on writing
(``layers.grid.areas.at_served_precision``); this brings areas stored before to the same
state, so OGC API – Features answers (7 decimals) are valid coverages there too. Reverting
keeps the snapped geometries (they differ from the old ones by less than a centimetre).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import shapely
import sqlalchemy as sa
from alembic import op

from geo.snapping import snap_coverage

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    groups = conn.execute(sa.text("SELECT DISTINCT generation, level FROM areas")).all()
    update = sa.text(
        "UPDATE areas SET geom = ST_GeomFromWKB(:wkb, 4326) WHERE generation = :generation AND code = :code"
    )
    for generation, level in groups:
        rows = conn.execute(
            sa.text(
                "SELECT code, ST_AsBinary(geom) FROM areas WHERE generation = :g AND level = :l ORDER BY code"
            ),
            {"g": generation, "l": level},
        ).all()
        snapped = snap_coverage(shapely.from_wkb([bytes(wkb) for _, wkb in rows]))
        changes = [
            {"wkb": shapely.to_wkb(geom), "generation": generation, "code": code}
            for (code, _), geom in zip(rows, snapped, strict=True)
            if not geom.is_empty  # an area thinner than the grid keeps its old shape
        ]
        if changes:
            conn.execute(update, changes)


def downgrade() -> None:
    pass  # the snapped geometries stay: they are the old ones to within a centimetre
