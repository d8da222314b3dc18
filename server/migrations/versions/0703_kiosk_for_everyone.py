"""kiosk for everyone: filled in by K3 (asset-linked requests, spoken descriptions); until then it changes nothing

Revision ID: 0703
Revises: 0702
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0703'
down_revision: str | None = '0702'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
