"""people admin audit: filled in by A1 (people admin, audit log, retention); until then it changes nothing

Revision ID: 0704
Revises: 0703
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0704'
down_revision: str | None = '0703'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
