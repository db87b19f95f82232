"""independent annotation, consensus, gold episodes, review policies and user settings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 05:40:00

A task's datasets may be annotated independently by each of its annotators (the reviewer then
picks the consensus); an episode's annotations in one task may be the reference (gold) others
are measured against; a project keeps its review sampling policy; a user keeps their settings.

On SQLite, ``users`` and ``projects`` get back the AUTOINCREMENT that migrations 0009 and 0010
lost when their batch rebuilt the tables (ids never reused, migration 0007), with each counter
above every id the audit log has named.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # plain ADD COLUMN (SQLite does it in place): a batch would rebuild these tables without
    # their AUTOINCREMENT (ids never reused, migration 0007)
    op.add_column(
        "task_datasets",
        sa.Column("independent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "annotations",
        sa.Column("consensus", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "projects",
        sa.Column("review_policy", JSON, nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "users", sa.Column("preferences", JSON, nullable=False, server_default=sa.text("'{}'"))
    )
    op.create_table(
        "gold_episodes",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_gold_episodes_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_gold_episodes_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_gold_episodes_created_by_users")
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_gold_episodes")),
    )
    op.create_index(op.f("ix_gold_episodes_task_id"), "gold_episodes", ["task_id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table, object_type in (("users", "user"), ("projects", "project")):
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass
            highest = max(
                bind.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar() or 0,
                bind.execute(
                    sa.text("SELECT max(object_id) FROM events WHERE object_type = :t"),
                    {"t": object_type},
                ).scalar()
                or 0,
            )
            bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
                {"t": table, "seq": highest},
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_gold_episodes_task_id"), table_name="gold_episodes")
    op.drop_table("gold_episodes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("preferences")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("review_policy")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("consensus")
    with op.batch_alter_table("task_datasets") as batch:
        batch.drop_column("independent")
