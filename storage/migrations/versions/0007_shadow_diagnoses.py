"""The shadow model's results (``shadow_diagnoses``; see storage/shadow.py).

Revision ID: 0007_shadow
Revises: 0006_history
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_shadow"
down_revision: str | None = "0006_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "shadow_diagnoses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recording_id", sa.Text(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("authoritative_version", sa.Text(), nullable=False),
        sa.Column("statements", _JSON, nullable=False),
        sa.Column("probabilities", _JSON, nullable=False),
        sa.Column("readable", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("unreadable_reasons", _JSON, nullable=True),
        sa.Column("diagnosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inference_seconds", sa.Float(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.recording_id"],
            name=op.f("fk_shadow_diagnoses_recording_id_recordings"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_diagnoses")),
        sa.UniqueConstraint("recording_id", "model_version", name=op.f("uq_shadow_diagnoses_recording_id_model_version")),
    )


def downgrade() -> None:
    op.drop_table("shadow_diagnoses")
