"""Tasks named by the caller: by id, or as a :class:`Task` object carrying the version it was
loaded at (a stale object is a :class:`ConflictError` naming both versions)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConflictError, NotFound
from .models import Task

__all__ = ["TaskRef", "check_version", "get", "resolve"]

TaskRef = int | Task


def get(session: Session, task: TaskRef) -> Task:
    """The task with this id (or the stored copy of this :class:`Task`), or :class:`NotFound`."""
    task_id = task.id if isinstance(task, Task) else task
    found = session.get(Task, task_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no task with id {task_id}")
    return found


def resolve(session: Session, refs: Iterable[TaskRef]) -> list[Task]:
    """Load tasks to change them, checking the version of every :class:`Task` object passed
    in. The rows stay locked until the transaction ends (PostgreSQL; SQLite has one writer),
    so a concurrent change is seen here, as a version, rather than lost at the write."""
    refs = list(refs)
    ids = list(dict.fromkeys(r.id if isinstance(r, Task) else r for r in refs))
    query = select(Task).where(Task.id.in_(ids)).order_by(Task.id).with_for_update(of=Task)
    found = {t.id: t for t in session.scalars(query.execution_options(populate_existing=True))}
    if missing := [i for i in ids if i not in found]:
        raise NotFound(f"no task with id {', '.join(map(str, missing))}")
    for ref in refs:
        if isinstance(ref, Task):
            check_version(found[ref.id], ref.version)
    return [found[i] for i in ids]


def check_version(task: Task, expected: int | None) -> None:
    """Refuse (:class:`ConflictError`) if ``expected`` is given and is not the task's version."""
    if expected is not None and task.version != expected:
        raise ConflictError(
            f"task '{task.name}' (#{task.id}) changed since you loaded it: you have version "
            f"{expected}, the stored version is {task.version}. Nothing was changed; reload and "
            f"try again.",
            expected=expected,
            actual=task.version,
        )
