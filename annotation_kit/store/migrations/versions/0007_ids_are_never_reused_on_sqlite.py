"""ids are never reused on SQLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 20:30:00

SQLite hands a deleted row's id to the next row unless the table is declared AUTOINCREMENT, so
a task created after another was deleted took its number, and with it the deleted task's
history. Every table whose rows are named in the audit log is rebuilt with AUTOINCREMENT
(PostgreSQL's sequences never reuse a number, so nothing changes there), and each table's
counter starts above every id the audit log has ever named, so numbers freed before this
migration are not handed out either. ``events`` itself is never deleted from (migration 0006)
and keeps its triggers. :meth:`Database.upgrade` runs SQLite migrations with foreign keys
off (a rebuild drops and renames tables) and checks them before committing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "users": "user",
    "projects": "project",
    "datasets": "dataset",
    "tasks": "task",
    "skills": "skill",
    "dictionaries": "dictionary",
    "annotations": "annotation",
    "reviews": None,
    "annotation_verdicts": None,
    "exports": "export",
    "jobs": "job",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, object_type in TABLES.items():
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
        highest = bind.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar() or 0
        if object_type:
            named = bind.execute(
                sa.text("SELECT max(object_id) FROM events WHERE object_type = :t"),
                {"t": object_type},
            ).scalar()
            highest = max(highest, named or 0)
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
            {"t": table, "seq": highest},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
