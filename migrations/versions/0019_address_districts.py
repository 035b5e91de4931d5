"""Addresses carry their district: a city's gazetteer holds 市南区's 宁夏路 and 市北区's.

A road may run through two districts (宁夏路, 延安三路, 南京路) and each has its own
doorplates, so an address is unique by district, road, number and building, and the
geocoder can keep a typed district's addresses apart from the other's. Existing rows take
the district of the active generation that covers them (the only one, before this, for the
reference data); a row no district covers keeps an empty code.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("addresses", sa.Column("district", sa.String(6), server_default="", nullable=False))
    op.execute(
        "UPDATE addresses a SET district = d.code FROM areas d JOIN generations g ON g.id = d.generation "
        "WHERE g.status = 'active' AND d.level = 'district' AND ST_Covers(d.geom, a.geom)"
    )
    op.drop_constraint("uq_addresses_road_house_number_building", "addresses", type_="unique")
    op.create_unique_constraint(
        "uq_addresses_district_road_house_number_building",
        "addresses",
        ["district", "road", "house_number", "building"],
    )


def downgrade() -> None:
    op.drop_constraint("uq_addresses_district_road_house_number_building", "addresses", type_="unique")
    op.execute(
        "DELETE FROM addresses a USING addresses b WHERE a.road = b.road AND a.house_number = b.house_number "
        "AND a.building = b.building AND a.id > b.id"
    )
    op.create_unique_constraint(
        "uq_addresses_road_house_number_building", "addresses", ["road", "house_number", "building"]
    )
    op.drop_column("addresses", "district")
