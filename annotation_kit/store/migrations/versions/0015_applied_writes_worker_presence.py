"""applied writes and worker presence: each id a page sends is applied once; workers say they
are there

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:30:00

``applied_writes`` holds the client-made id of every write applied from a page or a notebook
(:mod:`annotation_kit.store.writes`): a re-sent copy is recognised and not applied again.
``worker_presence`` has one row per running worker process, its ``seen_at`` moved by a
heartbeat: the Queue page counts the workers heard from lately.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applied_writes",
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_writes")),
    )
    op.create_index(op.f("ix_applied_writes_at"), "applied_writes", ["at"])
    op.create_table(
        "worker_presence",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_presence")),
    )
    op.create_index(op.f("ix_worker_presence_seen_at"), "worker_presence", ["seen_at"])


def downgrade() -> None:
    op.drop_table("worker_presence")
    op.drop_table("applied_writes")
