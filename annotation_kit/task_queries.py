"""Finding tasks: filtered, sorted, paginated lists, "all matching" selections, board columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session, lazyload

from . import _text, feedback, progress, projects, visibility
from ._paging import Page, check_page, contains
from .database import readonly
from .errors import ValidationError
from .models import Task, TaskMember, User
from .workflow import Status

__all__ = [
    "Board",
    "TaskCard",
    "board",
    "cards",
    "list_tasks",
    "matching_ids",
]

SORTABLE = ("created_at", "updated_at", "name", "deadline", "status", "id")


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
    creator: str
    open_issues: int
    """Issues raised on the task and not resolved yet (:mod:`annotation_kit.feedback`)."""
    deadline: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    counts: progress.Counts

    @property
    def completion(self) -> float:
        """Annotated datasets as a fraction of all (0 to 1)."""
        return self.counts.completion


@dataclass(frozen=True)
class Board:
    """The board view: counts per status and the first cards of each."""

    counts: dict[Status, int]
    """Tasks per status among those matching the filter (every status present, maybe 0)."""
    columns: dict[Status, list[TaskCard]]


def _filtered(
    session: Session,
    query: Select[Any],
    *,
    by: User,
    status: Status | str | Sequence[Status | str] | None = None,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
) -> Select[Any]:
    query = query.where(visibility.tasks_seen(by))
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        try:
            query = query.where(Task.status.in_([Status(s) for s in wanted]))
        except ValueError:
            raise ValidationError(
                f"unknown status in {wanted!r}; statuses: {', '.join(Status)}"
            ) from None
    if project is not None:
        query = query.where(Task.project_id == projects.get(session, project).id)
    if assignee:
        query = query.where(
            select(TaskMember.task_id)
            .join(User, User.id == TaskMember.user_id)
            .where(TaskMember.task_id == Task.id, User.name == assignee)
            .exists()
        )
    if search:
        pattern = contains(search)
        query = query.where(
            Task.name.ilike(pattern, escape="\\") | Task.description.ilike(pattern, escape="\\")
        )
    return query


def _order(sort: str) -> list[Any]:
    key = sort.lstrip("-")
    if key not in SORTABLE:
        raise ValidationError(
            f"cannot sort by {sort!r}; sort by one of {', '.join(SORTABLE)} "
            f"(prefix '-' for descending)"
        )
    column = getattr(Task, key)
    descending = sort.startswith("-")
    return [
        column.desc() if descending else column.asc(),
        Task.id.desc() if descending else Task.id.asc(),
    ]


def cards(session: Session, found: Sequence[Task]) -> list[TaskCard]:
    """Board cards for already-loaded tasks, with their counts."""
    stats = progress.counts(session, [t.id for t in found])
    issues = feedback.open_counts(session, [t.id for t in found])
    return [
        TaskCard(
            id=t.id,
            name=t.name,
            description=t.description,
            status=t.status,
            project=t.project.name if t.project else None,
            annotators=[u.name for u in t.annotators],
            reviewers=[u.name for u in t.reviewers],
            creator=t.creator.name,
            open_issues=issues.get(t.id, 0),
            deadline=t.deadline,
            created_at=t.created_at,
            updated_at=t.updated_at,
            version=t.version,
            counts=stats[t.id],
        )
        for t in found
    ]


@readonly
def list_tasks(
    session: Session,
    *,
    by: User,
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
    descending. Only tasks ``by`` may see are listed (:mod:`annotation_kit.visibility`).
    """
    check_page(page, page_size)
    filters = {
        "by": by,
        "status": status,
        "project": project,
        "assignee": assignee,
        "search": search,
    }
    total = (
        session.scalar(_filtered(session, select(func.count()).select_from(Task), **filters)) or 0
    )
    found = (
        session.scalars(
            _filtered(session, select(Task).options(lazyload(Task.creator)), **filters)
            .order_by(*_order(sort))
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        .unique()
        .all()
    )
    return Page(items=cards(session, found), total=total, page=page, page_size=page_size)


@readonly
def matching_ids(
    session: Session,
    *,
    by: User,
    status: Status | str | Sequence[Status | str] | None = None,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
) -> list[int]:
    """Ids of every task ``by`` may see matching the filters, across all pages ("select all
    matching")."""
    query = _filtered(
        session,
        select(Task.id),
        by=by,
        status=status,
        project=project,
        assignee=assignee,
        search=search,
    )
    return list(session.scalars(query.order_by(Task.id)))


@readonly
def board(
    session: Session,
    *,
    by: User,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
    per_status: int = 20,
    sort: str = "-created_at",
) -> Board:
    """Counts per status and the first ``per_status`` cards of each column, of the tasks ``by``
    may see."""
    filters = {"by": by, "project": project, "assignee": assignee, "search": search}
    _text.at_least(per_status, "per_status")
    order = _order(sort)
    # One count per status (an index range each; cheaper than GROUP BY on SQLite) ...
    row = session.execute(
        select(
            *(
                _filtered(
                    session, select(func.count()).select_from(Task), status=status, **filters
                ).scalar_subquery()
                for status in Status
            )
        )
    ).one()
    counts = dict(zip(Status, row, strict=True))
    # ... and the ids of every column's first cards in one statement.
    heads = [
        _filtered(session, select(Task.id), status=status, **filters)
        .order_by(*order)
        .limit(per_status)
        .subquery()
        for status in Status
        if counts[status]
    ]
    ids = set(session.scalars(union_all(*(select(h.c.id) for h in heads)))) if heads else set()
    found = (
        session.scalars(
            select(Task).options(lazyload(Task.creator)).where(Task.id.in_(ids)).order_by(*order)
        )
        .unique()
        .all()
    )
    columns: dict[Status, list[TaskCard]] = {status: [] for status in Status}
    for card in cards(session, found):
        columns[card.status].append(card)
    return Board(counts=counts, columns=columns)
