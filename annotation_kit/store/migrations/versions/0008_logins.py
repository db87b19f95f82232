"""logins: password hashes, throttling and session epochs for the served app

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 23:40:00

One row per user who may log in to ``annotation-kit serve``: an argon2 hash of the password
(never the password), failed attempts and a lock time for throttling, and an epoch carried in
every session cookie, so that a password change ends every open session. Kept apart from
``users`` so that a user row, which every list and event shows, never holds a hash.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "logins",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_logins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_logins")),
    )


def downgrade() -> None:
    op.drop_table("logins")
