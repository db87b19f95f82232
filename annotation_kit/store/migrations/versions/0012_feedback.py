"""feedback: questions and problems raised on tasks, with replies

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 06:30:00

An annotator raises an issue on a task, an episode or a time range of it (unclear guideline,
bad recording, missing skill); the task's manager and reviewers answer in a thread and resolve
it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("range_start_ns", sa.BigInteger(), nullable=True),
        sa.Column("range_end_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_feedback_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_parent_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_feedback_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_feedback_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_feedback_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_feedback_task_id"), "feedback", ["task_id"])
    op.create_index(op.f("ix_feedback_parent_id"), "feedback", ["parent_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_parent_id"), table_name="feedback")
    op.drop_index(op.f("ix_feedback_task_id"), table_name="feedback")
    op.drop_table("feedback")
