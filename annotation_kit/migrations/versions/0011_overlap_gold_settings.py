"""independent annotation, consensus, gold episodes, review policies and user settings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 05:40:00

A task's datasets may be annotated independently by each of its annotators (the reviewer then
picks the consensus); an episode's annotations in one task may be the reference (gold) others
are measured against; a project keeps its review sampling policy; a user keeps their settings.
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
    with op.batch_alter_table("task_datasets") as batch:
        batch.add_column(
            sa.Column("independent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(
            sa.Column("consensus", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("review_policy", JSON, nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("preferences", JSON, nullable=False, server_default=sa.text("'{}'"))
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
