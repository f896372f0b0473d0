"""Recordings and diagnoses tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written by hand and checked against storage.models by tests/storage (autogenerate finds no diff).
Types are spelled out here rather than imported from storage.models, so this file keeps meaning
what it meant when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("recording_id", sa.Text(), nullable=False),
        sa.Column("device_id", sa.Text(), nullable=True),
        sa.Column("patient_ref_hash", sa.String(length=64), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.Text(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("sampling_rate_hz", sa.Float(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=True),
        sa.Column("ingested_at", TIMESTAMP, nullable=True),
        sa.Column("signal_sha256", sa.String(length=64), nullable=False),
        sa.Column("signal", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False),
        sa.Column("source_topic", sa.Text(), nullable=True),
        sa.Column("source_partition", sa.Integer(), nullable=True),
        sa.Column("source_offset", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("recording_id", name="pk_recordings"),
    )
    op.create_table(
        "diagnoses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Text(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("statements", JSON_DOCUMENT, nullable=False),
        sa.Column("probabilities", JSON_DOCUMENT, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("diagnosed_at", TIMESTAMP, nullable=False),
        sa.Column("queue_wait_seconds", sa.Float(), nullable=False),
        sa.Column("preprocess_seconds", sa.Float(), nullable=False),
        sa.Column("inference_seconds", sa.Float(), nullable=False),
        sa.Column("latency_from_acquisition_seconds", sa.Float(), nullable=True),
        sa.Column("latency_from_ingest_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.recording_id"],
            name="fk_diagnoses_recording_id_recordings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_diagnoses"),
        # its leading column serves lookups by recording_id: no separate index
        sa.UniqueConstraint("recording_id", "model_version", name="uq_diagnoses_recording_id_model_version"),
    )
    op.create_index("ix_diagnoses_diagnosed_at", "diagnoses", ["diagnosed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_diagnoses_diagnosed_at", table_name="diagnoses")
    op.drop_table("diagnoses")
    op.drop_table("recordings")
