"""The gateway's kept samples of accepted uploads (``tracings``; see storage/tracings.py).

Revision ID: 0005_clinic
Revises: 0004_durable
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_clinic"
down_revision: str | None = "0004_durable"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracings",
        sa.Column("recording_id", sa.String(length=64), nullable=False),
        sa.Column("sampling_rate_hz", sa.Float(), nullable=False),
        sa.Column("leads", sa.Text(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("samples_f16", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_tracings")),
    )


def downgrade() -> None:
    op.drop_table("tracings")
