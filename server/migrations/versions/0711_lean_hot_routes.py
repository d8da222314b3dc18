"""lean hot routes: indexes the hot routes need (reserved; filled in by its owner)

Revision ID: 0711
Revises: 0710
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

revision: str = '0711'
down_revision: str | None = '0710'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
