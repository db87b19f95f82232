"""Tasks: create from datasets, edit, (batch) reassign and delete, and move through the workflow.

Functions that change several tasks take ``tasks`` as ids or as :class:`Task` objects from an
earlier read; for objects, the version they carry must still be the stored one, so a batch
built from a stale listing raises :class:`ConflictError` and changes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import _text, events, projects, users
from ..access.workflow import ACTIVE, Duty, Role, require_supervisor
from ..data.datasets import require_ids
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import (
    Annotation,
    Task,
    TaskDataset,
    TaskMember,
    User,
    utcnow,
)
from ..store.task_refs import TaskRef, check_version, get, resolve
from . import consensus, source_segments
from .transitions import (
    allowed_actions,
    approve,
    permissions,
    reject,
    start,
    submit,
    submit_data,
    transition,
)

__all__ = [
    "DatasetsInActiveTask",
    "active_tasks_for",
    "allowed_actions",
    "approve",
    "assign",
    "check_version",
    "create",
    "delete",
    "edit",
    "get",
    "permissions",
    "reject",
    "resolve",
    "set_datasets",
    "start",
    "submit",
    "submit_data",
    "task_dataset_ids",
    "transition",
]

_UNSET: Any = object()

ASSIGNABLE = frozenset(set(Role) - {Role.VISITOR})


class DatasetsInActiveTask(UserWarning):
    """Some datasets of a new task are already part of another active task."""


@readonly
def active_tasks_for(session: Session, dataset_ids: Iterable[int]) -> dict[int, list[Task]]:
    """For each dataset id that is in an active task, the tasks it is in."""
    ids = list(dataset_ids)
    rows = session.execute(
        select(TaskDataset.dataset_id, Task)
        .join(Task, Task.id == TaskDataset.task_id)
        .where(TaskDataset.dataset_id.in_(ids), Task.status.in_(ACTIVE))
    ).all()
    result: dict[int, list[Task]] = {}
    for dataset_id, task in rows:
        result.setdefault(dataset_id, []).append(task)
    return result


def create(
    session: Session,
    name: str,
    *,
    datasets: Sequence[int] = (),
    annotators: Sequence[str] = (),
    reviewers: Sequence[str] = (),
    project: str | int | None = None,
    description: str = "",
    deadline: datetime | None = None,
    allow_reassign: bool = True,
    overlap: float = 0.0,
    by: User,
) -> Task:
    """Create a task over ``datasets`` (ids) and assign people to it (managers and admins).

    ``overlap`` (0 to 1): the share of the datasets each annotator annotates independently, for
    agreement between them and a consensus the reviewer picks
    (:mod:`annotation_kit.work.consensus`).

    When a dataset is already part of another active task, a :class:`DatasetsInActiveTask`
    warning names them; with ``allow_reassign=False`` that is a :class:`ValidationError` instead.
    """
    require_supervisor(by, "create tasks")
    _text.name(name, "task name")
    _text.text(description, "task description")
    dataset_ids = require_ids(session, datasets)
    if busy := active_tasks_for(session, dataset_ids):
        message = "datasets already in an active task: " + "; ".join(
            f"#{d} in " + ", ".join(f"'{t.name}' (#{t.id}, {t.status.label})" for t in tasks)
            for d, tasks in sorted(busy.items())
        )
        if not allow_reassign:
            raise ValidationError(f"task not created: {message}")
        warnings.warn(message, DatasetsInActiveTask, stacklevel=2)
    task = Task(
        name=name,
        description=description,
        project_id=projects.require_open(projects.get(session, project)).id
        if project is not None
        else None,
        creator_id=by.id,
        deadline=deadline,
    )
    session.add(task)
    session.flush()
    session.add_all(TaskDataset(task_id=task.id, dataset_id=d) for d in dataset_ids)
    source_segments.copy_into(session, task, dataset_ids, by=by)
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=task.id,
        action="create",
        to_state=task.status.value,
        datasets=len(dataset_ids),
    )
    _set_members(session, task, Duty.ANNOTATOR, annotators, by=by)
    _set_members(session, task, Duty.REVIEWER, reviewers, by=by)
    if overlap:
        consensus.set_independent(session, task.id, share=overlap, seed=task.id, by=by)
    session.flush()
    session.refresh(task)
    return task


def _set_members(
    session: Session, task: Task, duty: Duty, names: Sequence[str], *, by: User
) -> bool:
    people = users.get_many(session, names)
    for person in people:
        if not person.active or person.role not in ASSIGNABLE:
            raise ValidationError(
                f"{person.role} '{person.name}' cannot be assigned to a task"
                + ("" if person.active else " (disabled)")
            )
    before = sorted(m.user.name for m in task.members if m.duty == duty)
    after = sorted(p.name for p in people)
    if before == after:
        return False
    keep = {p.id for p in people}
    for member in [m for m in task.members if m.duty == duty and m.user_id not in keep]:
        task.members.remove(member)
    have = {m.user_id for m in task.members if m.duty == duty}
    for person in people:
        if person.id not in have:
            task.members.append(TaskMember(user_id=person.id, duty=duty, user=person))
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=task.id,
        action=f"assign_{duty}s",
        from_state=",".join(before),
        to_state=",".join(after),
    )
    return True


def assign(
    session: Session,
    tasks: TaskRef | Iterable[TaskRef],
    *,
    annotators: Sequence[str] | None = None,
    reviewers: Sequence[str] | None = None,
    by: User,
) -> list[Task]:
    """(Batch) reassign: replace the annotators and/or reviewers of one or many tasks."""
    require_supervisor(by, "reassign tasks")
    found = resolve(session, [tasks] if isinstance(tasks, TaskRef) else tasks)
    for task in found:
        changed = False
        if annotators is not None:
            changed |= _set_members(session, task, Duty.ANNOTATOR, annotators, by=by)
        if reviewers is not None:
            changed |= _set_members(session, task, Duty.REVIEWER, reviewers, by=by)
        if changed:
            task.updated_at = utcnow()  # an assignment is a new version of the task
    session.flush()
    return found


def edit(
    session: Session,
    tasks: TaskRef | Iterable[TaskRef],
    *,
    name: str = _UNSET,
    description: str = _UNSET,
    deadline: datetime | None = _UNSET,
    project: str | int | None = _UNSET,
    expected_version: int | None = None,
    by: User,
) -> list[Task]:
    """Change attributes of one task or a batch (managers and admins); each change is logged.

    ``expected_version`` (or :class:`Task` objects as loaded) makes a stale save a
    :class:`ConflictError` that changes nothing, instead of overwriting someone else's edit."""
    require_supervisor(by, "edit tasks")
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = _text.name(name, "task name")
    if description is not _UNSET:
        changes["description"] = _text.text(description, "task description")
    if deadline is not _UNSET:
        changes["deadline"] = deadline
    if project is not _UNSET:
        changes["project_id"] = (
            projects.require_open(projects.get(session, project)).id
            if project is not None
            else None
        )
    found = resolve(session, [tasks] if isinstance(tasks, TaskRef) else tasks)
    if expected_version is not None:
        if len(found) != 1:
            raise ValidationError("expected_version is for editing one task")
        check_version(found[0], expected_version)
    for task in found:
        for key, value in changes.items():
            old = getattr(task, key)
            if old != value:
                events.record(
                    session,
                    by=by,
                    object_type="task",
                    object_id=task.id,
                    action=f"edit_{key}",
                    from_state=_short(old),
                    to_state=_short(value),
                )
                setattr(task, key, value)
    session.flush()
    return found


def _short(value: object) -> str | None:
    return None if value is None else str(value)[:64]


def set_datasets(
    session: Session,
    task: TaskRef,
    *,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
    by: User,
) -> Task:
    """Add datasets to a task or remove them (annotations of removed datasets are deleted)."""
    require_supervisor(by, "change the datasets of tasks")
    found = resolve(session, [task])[0]
    have = set(
        session.scalars(select(TaskDataset.dataset_id).where(TaskDataset.task_id == found.id))
    )
    for dataset_id in require_ids(session, add):
        if dataset_id not in have:
            session.add(TaskDataset(task_id=found.id, dataset_id=dataset_id))
    drop = [d for d in remove if d in have]
    if drop:
        session.execute(
            sql_delete(Annotation).where(
                Annotation.task_id == found.id, Annotation.dataset_id.in_(drop)
            )
        )
        session.execute(
            sql_delete(TaskDataset).where(
                TaskDataset.task_id == found.id, TaskDataset.dataset_id.in_(drop)
            )
        )
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=found.id,
        action="set_datasets",
        added=list(add),
        removed=drop,
    )
    found.updated_at = utcnow()
    session.flush()
    return found


def delete(
    session: Session, tasks: TaskRef | Iterable[TaskRef], *, confirm: bool = False, by: User
) -> int:
    """Delete tasks with their annotations and dataset links; the datasets stay.

    Needs ``confirm=True`` (a batch delete cannot be undone). Each deletion is logged with what
    the task held. Returns the number of tasks deleted.
    """
    require_supervisor(by, "delete tasks")
    found = resolve(session, [tasks] if isinstance(tasks, TaskRef) else tasks)
    if not confirm:
        raise ValidationError(
            f"deleting {len(found)} task(s) cannot be undone: call again with confirm=True"
        )
    ids = [t.id for t in found]
    counts = dict(
        session.execute(
            select(Annotation.task_id, func.count())
            .where(Annotation.task_id.in_(ids))
            .group_by(Annotation.task_id)
        ).all()
    )
    links = dict(
        session.execute(
            select(TaskDataset.task_id, func.count())
            .where(TaskDataset.task_id.in_(ids))
            .group_by(TaskDataset.task_id)
        ).all()
    )
    for task in found:
        events.record(
            session,
            by=by,
            object_type="task",
            object_id=task.id,
            action="delete",
            from_state=task.status.value,
            note=task.name,
            annotations=counts.get(task.id, 0),
            datasets=links.get(task.id, 0),
        )
    session.flush()
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        session.execute(
            sql_delete(Task).where(Task.id.in_(part)),
            execution_options={"synchronize_session": False},
        )
    for task in found:
        session.expunge(task)
    return len(ids)


@readonly
def task_dataset_ids(session: Session, task: TaskRef) -> list[int]:
    """Ids of the task's datasets, in order."""
    task_id = task.id if isinstance(task, Task) else task
    return list(
        session.scalars(
            select(TaskDataset.dataset_id)
            .where(TaskDataset.task_id == task_id)
            .order_by(TaskDataset.dataset_id)
        )
    )
