"""a task's members carry its status: a person's board reads one index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:00:00

``task_members`` gets the task's ``status`` and ``created_at``, kept by triggers whoever
writes (the ORM, a bulk statement, plain SQL): copied when a member is added, followed when
the task's status (or creation time) changes. The index ``(user_id, duty, status,
created_at, task_id)`` answers a person's counts per status and newest tasks per status without
touching ``tasks`` (a person on every one of 100k tasks: an index range per duty and status).
It replaces the index on ``user_id`` alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPY = (
    "status = (SELECT t.status FROM tasks t WHERE t.id = task_members.task_id), "
    "created_at = (SELECT t.created_at FROM tasks t WHERE t.id = task_members.task_id)"
)


def upgrade() -> None:
    op.add_column("task_members", sa.Column("status", sa.String(length=32), nullable=True))
    op.add_column(
        "task_members", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(f"UPDATE task_members SET {_COPY}")
    op.drop_index("ix_task_members_user_id", table_name="task_members")
    op.create_index(
        "ix_task_members_person",
        "task_members",
        ["user_id", "duty", "status", "created_at", "task_id"],
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER task_members_copy_task AFTER INSERT ON task_members BEGIN "
            f"UPDATE task_members SET {_COPY} WHERE task_id = NEW.task_id "
            "AND user_id = NEW.user_id AND duty = NEW.duty; END"
        )
        op.execute(
            "CREATE TRIGGER task_members_follow_task AFTER UPDATE OF status, created_at ON tasks "
            "BEGIN UPDATE task_members SET status = NEW.status, created_at = NEW.created_at "
            "WHERE task_id = NEW.id; END"
        )
        return
    op.execute(
        "CREATE FUNCTION task_members_copy_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "SELECT t.status, t.created_at INTO NEW.status, NEW.created_at FROM tasks t "
        "WHERE t.id = NEW.task_id; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER task_members_copy_task BEFORE INSERT OR UPDATE OF task_id "
        "ON task_members FOR EACH ROW EXECUTE FUNCTION task_members_copy_task()"
    )
    op.execute(
        "CREATE FUNCTION task_members_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE task_members SET status = NEW.status, created_at = NEW.created_at "
        "WHERE task_id = NEW.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER task_members_follow_task AFTER UPDATE OF status, created_at ON tasks "
        "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.created_at IS DISTINCT FROM NEW.created_at) "
        "EXECUTE FUNCTION task_members_follow_task()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER task_members_copy_task")
        op.execute("DROP TRIGGER task_members_follow_task")
    else:
        op.execute("DROP TRIGGER task_members_follow_task ON tasks")
        op.execute("DROP FUNCTION task_members_follow_task()")
        op.execute("DROP TRIGGER task_members_copy_task ON task_members")
        op.execute("DROP FUNCTION task_members_copy_task()")
    op.drop_index("ix_task_members_person", table_name="task_members")
    op.create_index("ix_task_members_user_id", "task_members", ["user_id"])
    op.drop_column("task_members", "created_at")
    op.drop_column("task_members", "status")
