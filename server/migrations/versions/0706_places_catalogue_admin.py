"""places catalogue admin: filled in by A3 (places, categories, library and site settings admin, ledgers); until then it changes nothing

Revision ID: 0706
Revises: 0705
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0706'
down_revision: str | None = '0705'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
