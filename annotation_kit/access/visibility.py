"""Who may see which tasks and datasets: decided here, once, for every list, search and open.

- Managers and admins see everything.
- Everyone else sees the tasks they annotate or review, and the tasks of the projects they are
  members of or that are visible to all (project visibility); the datasets of the tasks they see
  and of those projects. Seeing is not changing: a visible project is read-only to outsiders.
- Collectors, who register and check data, see every dataset (and tasks as everyone else).

Lists (:mod:`~annotation_kit.work.task_queries`, :mod:`~annotation_kit.data.dataset_queries`)
filter by
:func:`tasks_seen` / :func:`datasets_seen`; opening one task or dataset by id goes through
:func:`require_task` / :func:`require_dataset`, which answer "not found" for what the person may
not see, so ids outside one's view cannot be probed. Whether a person may *change* something is
:mod:`~annotation_kit.access.workflow`'s question, asked after this one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true, union
from sqlalchemy.orm import Session, aliased

from ..errors import NotFound, PermissionDenied
from ..store import task_refs
from ..store.models import Dataset, Project, ProjectMember, Task, TaskDataset, TaskMember, User
from ..store.task_refs import TaskRef
from .workflow import Role, is_supervisor

__all__ = [
    "datasets_seen",
    "may_see_task",
    "require_dataset",
    "require_project",
    "require_task",
    "sees_project_tasks",
    "tasks_seen",
]


def _projects(user: User) -> Any:
    """The projects ``user`` sees: theirs, and the visible ones."""
    return union(
        select(ProjectMember.project_id).where(ProjectMember.user_id == user.id),
        select(Project.id).where(Project.visibility == "visible"),
    )


def tasks_seen(user: User) -> ColumnElement[bool]:
    """A condition on :class:`Task` rows: the tasks ``user`` may see."""
    if is_supervisor(user):
        return true()
    # one IN over a union of ids (the person's tasks by the members index, their projects'
    # tasks): the database joins the few ids to the tasks instead of testing every task
    projects = aliased(Task)  # its own FROM: never correlated with the task tested
    theirs = union(
        select(TaskMember.task_id).where(TaskMember.user_id == user.id),
        select(projects.id).where(projects.project_id.in_(_projects(user))),
    )
    return Task.id.in_(theirs)


def sees_project_tasks(session: Session, user: User) -> bool:
    """Whether ``user`` sees any task beyond their own through a project (a supervisor sees
    every task: True when there is one)."""
    found = select(Task.id).limit(1)
    if not is_supervisor(user):
        found = found.where(Task.project_id.in_(_projects(user)))
    return session.scalar(found) is not None


def datasets_seen(user: User) -> ColumnElement[bool]:
    """A condition on :class:`Dataset` rows: the datasets ``user`` may see."""
    if is_supervisor(user) or (user.role == Role.COLLECTOR and user.active):
        return true()
    in_seen_task = (
        select(TaskDataset.dataset_id)
        .join(Task, Task.id == TaskDataset.task_id)
        .where(TaskDataset.dataset_id == Dataset.id, tasks_seen(user))
        .exists()
    )
    return in_seen_task | Dataset.project_id.in_(_projects(user))


def may_see_task(session: Session, task_id: int, user: User) -> bool:
    """Whether ``user`` may see the task with this id (False when there is none): two index
    lookups, however many tasks the person is on (every save asks it)."""
    found = select(Task.id).where(Task.id == task_id)
    if not is_supervisor(user):
        member = select(TaskMember.task_id).where(
            TaskMember.task_id == task_id, TaskMember.user_id == user.id
        )
        found = found.where(member.exists() | Task.project_id.in_(_projects(user)))
    return session.scalar(found) is not None


def require_task(session: Session, task: TaskRef, user: User) -> Task:
    """The task, or :class:`NotFound` when there is none *or* ``user`` may not see it."""
    task_id = task.id if isinstance(task, Task) else int(task)
    if not may_see_task(session, task_id, user):
        raise NotFound(f"no task with id {task_id} that {user.name} may see")
    return task_refs.get(session, task)


def require_dataset(session: Session, dataset_id: int, user: User) -> Dataset:
    """The dataset, or :class:`NotFound` when there is none *or* ``user`` may not see it."""
    found = session.scalar(select(Dataset).where(Dataset.id == dataset_id, datasets_seen(user)))
    if found is None:
        raise NotFound(f"no dataset with id {dataset_id} that {user.name} may see")
    return found


def require_project(
    session: Session, project: Project, user: User, *, change: str | None = None
) -> Project:
    """``project`` when ``user`` may see it (its members, everyone for a visible one, managers
    and admins), else :class:`NotFound`; with ``change`` (what they want to do) also when they
    may change things in it — members only, besides managers and admins — else
    :class:`PermissionDenied`. Every project-scoped read and write by a person asks here."""
    if is_supervisor(user):
        return project
    member = session.get(ProjectMember, (project.id, user.id)) is not None
    if not member and project.visibility != "visible":
        raise NotFound(f"no project {project.name!r} that {user.name} may see")
    if change and not member:
        raise PermissionDenied(
            f"{user.name} may not {change} in project {project.name!r}: only its members "
            "(and managers and admins) may; ask a manager to add you"
        )
    return project
