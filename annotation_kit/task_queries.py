"""Finding tasks: filtered, sorted, paginated lists, "all matching" selections, board columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from . import progress, projects
from .database import readonly
from .errors import ValidationError
from .models import Task, TaskMember, User
from .workflow import Status

SORTABLE = ("created_at", "updated_at", "name", "deadline", "status", "id")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class TaskCard:
    """What a board card or list row shows about one task."""

    id: int
    name: str
    description: str
    status: Status
    project: str | None
    annotators: list[str]
    reviewers: list[str]
    deadline: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    counts: progress.Counts

    @property
    def completion(self) -> float:
        return self.counts.completion


@dataclass(frozen=True)
class Page:
    items: list[TaskCard]
    total: int
    """How many tasks match the filter over all pages."""
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Board:
    counts: dict[Status, int]
    """Tasks per status among those matching the filter (every status present, maybe 0)."""
    columns: dict[Status, list[TaskCard]]


def _filtered(
    session: Session,
    query: Select[Any],
    *,
    status: Status | str | Sequence[Status | str] | None = None,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
) -> Select[Any]:
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        try:
            query = query.where(Task.status.in_([Status(s) for s in wanted]))
        except ValueError:
            raise ValidationError(f"unknown status in {wanted!r}; statuses: "
                                  f"{', '.join(Status)}") from None
    if project is not None:
        query = query.where(Task.project_id == projects.get(session, project).id)
    if assignee:
        query = query.where(
            select(TaskMember.task_id).join(User, User.id == TaskMember.user_id)
            .where(TaskMember.task_id == Task.id, User.name == assignee).exists())
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Task.name.ilike(pattern, escape="\\")
                            | Task.description.ilike(pattern, escape="\\"))
    return query


def _order(sort: str) -> list[Any]:
    key = sort.lstrip("-")
    if key not in SORTABLE:
        raise ValidationError(f"cannot sort by {sort!r}; sort by one of {', '.join(SORTABLE)} "
                              f"(prefix '-' for descending)")
    column = getattr(Task, key)
    descending = sort.startswith("-")
    return [column.desc() if descending else column.asc(),
            Task.id.desc() if descending else Task.id.asc()]


def cards(session: Session, found: Sequence[Task]) -> list[TaskCard]:
    """Board cards for already-loaded tasks, with their counts."""
    stats = progress.counts(session, [t.id for t in found])
    return [
        TaskCard(id=t.id, name=t.name, description=t.description, status=t.status,
                 project=t.project.name if t.project else None,
                 annotators=[u.name for u in t.annotators],
                 reviewers=[u.name for u in t.reviewers], deadline=t.deadline,
                 created_at=t.created_at, updated_at=t.updated_at, version=t.version,
                 counts=stats[t.id])
        for t in found
    ]


@readonly
def list_tasks(
    session: Session,
    *,
    status: Status | str | Sequence[Status | str] | None = None,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 50,
) -> Page:
    """One page of tasks matching the filters. ``search`` matches name or description, any case.

    ``assignee`` is a user name (as annotator or reviewer); ``sort`` is a column, ``-`` first for
    descending.
    """
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page must be ≥ 1 and page_size between 1 and {MAX_PAGE_SIZE}")
    filters = {"status": status, "project": project, "assignee": assignee, "search": search}
    total = session.scalar(_filtered(session, select(func.count(Task.id)), **filters)) or 0
    found = session.scalars(
        _filtered(session, select(Task), **filters).order_by(*_order(sort))
        .limit(page_size).offset((page - 1) * page_size)).unique().all()
    return Page(items=cards(session, found), total=total, page=page, page_size=page_size)


@readonly
def matching_ids(
    session: Session,
    *,
    status: Status | str | Sequence[Status | str] | None = None,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
) -> list[int]:
    """Ids of every task matching the filters, across all pages ("select all matching")."""
    query = _filtered(session, select(Task.id), status=status, project=project,
                      assignee=assignee, search=search)
    return list(session.scalars(query.order_by(Task.id)))


@readonly
def board(
    session: Session,
    *,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
    per_status: int = 20,
    sort: str = "-created_at",
) -> Board:
    """Counts per status and the first ``per_status`` cards of each column."""
    filters = {"project": project, "assignee": assignee, "search": search}
    rows = session.execute(
        _filtered(session, select(Task.status, func.count()), **filters).group_by(Task.status))
    counts = {s: 0 for s in Status} | dict(rows.all())
    loaded = {
        status: session.scalars(
            _filtered(session, select(Task), status=status, **filters).order_by(*_order(sort))
            .limit(per_status)).unique().all() if counts[status] else []
        for status in Status
    }
    by_id = {card.id: card for card in cards(session, [t for ts in loaded.values() for t in ts])}
    return Board(counts=counts,
                 columns={s: [by_id[t.id] for t in ts] for s, ts in loaded.items()})
