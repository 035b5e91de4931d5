"""A firm's registration authority (登记机关) apart from its credit code: the city's or a
district's, so the daily push can tell city- and district-level changes apart. Existing firms
take the division in their code's characters 3–8 (GB 32100: the authority that issued it).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

LEVEL_SQL = (  # as layers.db.models has it (a migration never imports the models)
    "CASE WHEN registrar = district THEN 'district' "
    "WHEN registrar = left(district, 4) || '00' THEN 'city' ELSE 'other' END"
)

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("registrar", sa.String(6), nullable=True))
    op.execute("UPDATE enterprises SET registrar = substr(credit_code, 3, 6)")
    op.alter_column("enterprises", "registrar", nullable=False)
    op.create_check_constraint(op.f("ck_enterprises_registrar"), "enterprises", "registrar ~ '^[0-9]{6}$'")
    op.add_column(
        "enterprises",
        sa.Column("registrar_level", sa.Text(), sa.Computed(LEVEL_SQL, persisted=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("enterprises", "registrar_level")
    op.drop_constraint(op.f("ck_enterprises_registrar"), "enterprises", type_="check")
    op.drop_column("enterprises", "registrar")
