"""equipment records: filled in by A2 (extinguisher inspections, tank cleanings and water tests); until then it changes nothing

Revision ID: 0705
Revises: 0704
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0705'
down_revision: str | None = '0704'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
