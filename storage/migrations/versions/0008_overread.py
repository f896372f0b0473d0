"""Physician overreads (append-only audit trail), their publication, and encrypted patient identities.

Revision ID: 0008_overread
Revises: 0007_shadow
Create Date: 2026-11-26

``overreads``: one row per confirm / edit / reject, version 1, 2, ... per recording (unique), never
updated (storage/overreads.py). ``overread_publications``: the broker took that overread.
``patient_identities``: the patient identifier and name entered at upload, AES-256-GCM encrypted,
for the chart report only (storage/identity.py). Checked against the models by tests/storage.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_overread"
down_revision: str | None = "0007_shadow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "overreads",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("statements", JSON_DOCUMENT, nullable=False),
        sa.Column("free_text", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reader", sa.Text(), nullable=False),
        sa.Column("reader_name", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.recording_id"], name="fk_overreads_recording_id_recordings"),
        sa.PrimaryKeyConstraint("id", name="pk_overreads"),
        sa.UniqueConstraint("recording_id", "version", name="uq_overreads_recording_id_version"),
    )
    op.create_index("ix_overreads_at", "overreads", ["at"], unique=False)
    op.create_table(
        "overread_publications",
        sa.Column("overread_id", ROW_ID, autoincrement=False, nullable=False),
        sa.Column("published_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False),
        sa.ForeignKeyConstraint(["overread_id"], ["overreads.id"], name="fk_overread_publications_overread_id_overreads"),
        sa.PrimaryKeyConstraint("overread_id", name="pk_overread_publications"),
    )
    op.create_table(
        "patient_identities",
        sa.Column("recording_id", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("recording_id", name="pk_patient_identities"),
    )


def downgrade() -> None:
    op.drop_table("patient_identities")
    op.drop_table("overread_publications")
    op.drop_index("ix_overreads_at", table_name="overreads")
    op.drop_table("overreads")
