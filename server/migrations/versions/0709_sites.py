"""sites everywhere: the sites of a district and each row's site (reserved; filled in by its owner)

Revision ID: 0709
Revises: 0708
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

revision: str = '0709'
down_revision: str | None = '0708'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
