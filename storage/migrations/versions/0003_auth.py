"""Access control: API tokens, users, login sessions and recording owners.

Revision ID: 0003_auth
Revises: 0001
Create Date: 2026-11-25

Written by hand and checked against storage.auth_models by tests/storage (autogenerate finds no diff).
No secret is stored in clear: tokens and session cookies as SHA-256, passwords as scrypt hashes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_auth"
down_revision: str | None = "0002_integrate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        _created_at(),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _created_at(),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_users"),
    )
    op.create_table(
        "login_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        _created_at(),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name="fk_login_sessions_username_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_login_sessions"),
    )
    op.create_index("ix_login_sessions_username", "login_sessions", ["username"], unique=False)
    op.create_table(
        "recording_owners",
        sa.Column("recording_id", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("recording_id", name="pk_recording_owners"),
    )


def downgrade() -> None:
    op.drop_table("recording_owners")
    op.drop_index("ix_login_sessions_username", table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_table("users")
    op.drop_table("api_tokens")
