"""identities: PostgreSQL logins that identify a person, and users' e-mail addresses

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 02:30:00

A team on PostgreSQL can give each person their own database login and link it to their
workspace user; once any link exists, ``connect()`` acts as the linked user of the session's
login instead of the name the caller gives. A user's e-mail address is how a single sign-on
identity (OpenID Connect) of the served app finds its workspace user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_email"), ["email"])
    op.create_table(
        "database_logins",
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_database_logins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_database_logins")),
    )
    op.create_index(
        op.f("ix_database_logins_user_id"), "database_logins", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_database_logins_user_id"), table_name="database_logins")
    op.drop_table("database_logins")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_email"), type_="unique")
        batch.drop_column("email")
