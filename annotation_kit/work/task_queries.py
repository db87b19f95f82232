"""Finding tasks: filtered, sorted, paginated lists, "all matching" selections, board columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union_all
from sqlalchemy.orm import Session, aliased, lazyload

from ..access import _text, projects, visibility
from ..access.workflow import Duty, Status, is_supervisor
from ..errors import ValidationError
from ..store._paging import Page, check_page, contains
from ..store.database import readonly
from ..store.models import Task, TaskMember, User
from . import feedback, progress

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
    """Issues raised on the task and not resolved yet (:mod:`annotation_kit.work.feedback`)."""
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
    person: int | None = None,
) -> Select[Any]:
    if person is not None:  # the filters select this person's own tasks (see _person)
        query = query.where(Task.id.in_(select(TaskMember.task_id).where(_once(person))))
    else:
        query = query.where(visibility.tasks_seen(by))
        if assignee:
            query = query.where(
                select(TaskMember.task_id)
                .join(User, User.id == TaskMember.user_id)
                .where(TaskMember.task_id == Task.id, User.name == assignee)
                .exists()
            )
    if (statuses := _statuses(status)) is not None:
        query = query.where(Task.status.in_(statuses))
    if project is not None:
        query = query.where(Task.project_id == projects.get(session, project).id)
    if search:
        pattern = contains(search)
        query = query.where(
            Task.name.ilike(pattern, escape="\\") | Task.description.ilike(pattern, escape="\\")
        )
    return query


def _person(
    session: Session,
    by: User,
    *,
    project: str | int | None = None,
    assignee: str | None = None,
    search: str | None = None,
) -> int | None:
    """The id of the person whose own tasks (as annotator or reviewer) are exactly what ``by``
    sees under these filters — their board and lists are then read from the members' index
    (migration 0016), however many tasks they are on — or None when the filters select
    something else (a search, a project, someone else's tasks in one's projects...)."""
    if search or project is not None:
        return None
    if assignee:
        if assignee == by.name:
            return by.id  # everyone sees the tasks they are on
        if not is_supervisor(by):
            return None
        return session.scalar(select(User.id).where(User.name == assignee)) or 0  # 0: nobody's
    if is_supervisor(by) or visibility.sees_project_tasks(session, by):
        return None
    return by.id


def _once(person: int) -> ColumnElement[bool]:
    """Member rows of ``person``, one per task: their annotator row, or their reviewer row on
    a task they do not also annotate."""
    also = aliased(TaskMember)
    annotates = (
        select(also.task_id)
        .where(
            also.task_id == TaskMember.task_id,
            also.user_id == person,
            also.duty == Duty.ANNOTATOR,
        )
        .exists()
    )
    return (TaskMember.user_id == person) & ((TaskMember.duty == Duty.ANNOTATOR) | ~annotates)


def _person_counts(session: Session, person: int) -> tuple[dict[Status, int], list[Duty]]:
    """The person's tasks per status, and the duties they hold: a count of one index range
    per duty and status (the database counts a range without reading rows). Someone who both
    annotates and reviews a task is on it once: the tasks of the duty they hold less often
    are checked for the other."""
    cells = [(duty, status) for duty in Duty for status in Status]
    ranges = (
        select(func.count())
        .select_from(TaskMember)
        .where(TaskMember.user_id == person, TaskMember.duty == duty, TaskMember.status == status)
        .scalar_subquery()
        for duty, status in cells
    )
    per = dict(zip(cells, session.execute(select(*ranges)).one(), strict=True))
    held = {d: sum(per[d, s] for s in Status) for d in Duty if any(per[d, s] for s in Status)}
    counts = {status: sum(per[d, status] for d in Duty) for status in Status}
    if len(held) > 1:
        fewer = min(held, key=held.__getitem__)
        other = Duty.REVIEWER if fewer == Duty.ANNOTATOR else Duty.ANNOTATOR
        also = aliased(TaskMember)
        both = (
            select(also.task_id)
            .where(also.task_id == TaskMember.task_id, also.user_id == person, also.duty == other)
            .exists()
        )
        twice = select(TaskMember.status, func.count()).where(
            TaskMember.user_id == person, TaskMember.duty == fewer, both
        )
        for status, n in session.execute(twice.group_by(TaskMember.status)):
            counts[Status(status)] -= n
    return counts, list(held)


def _person_ids(
    person: int, duties: Sequence[Duty], statuses: Sequence[Status] | None, sort: str
) -> Select[Any]:
    """Ids of the person's tasks (of these statuses) in creation order: the index's own order
    for someone of one duty (the usual case)."""
    query = select(TaskMember.task_id)
    if len(duties) == 1:
        query = query.where(TaskMember.user_id == person, TaskMember.duty == duties[0])
    else:
        query = query.where(_once(person))
    if statuses is not None:
        query = query.where(TaskMember.status.in_(list(statuses)))
    if sort.startswith("-"):
        return query.order_by(TaskMember.created_at.desc(), TaskMember.task_id.desc())
    return query.order_by(TaskMember.created_at.asc(), TaskMember.task_id.asc())


def _statuses(status: Status | str | Sequence[Status | str] | None) -> list[Status] | None:
    if status is None:
        return None
    wanted = [status] if isinstance(status, str) else list(status)
    try:
        return [Status(s) for s in wanted]
    except ValueError:
        raise ValidationError(
            f"unknown status in {wanted!r}; statuses: {', '.join(Status)}"
        ) from None


def _by_ids(session: Session, ids: Sequence[int], sort: str) -> list[Task]:
    query = select(Task).options(lazyload(Task.creator)).where(Task.id.in_(list(ids)))
    return list(session.scalars(query.order_by(*_order(sort))).unique().all())


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
    descending. Only tasks ``by`` may see are listed (:mod:`annotation_kit.access.visibility`).
    """
    check_page(page, page_size)
    order = _order(sort)
    person = _person(session, by, project=project, assignee=assignee, search=search)
    filters = {
        "by": by,
        "status": status,
        "project": project,
        "assignee": assignee,
        "search": search,
        "person": person,
    }
    found: Sequence[Task]
    if person is not None and sort.lstrip("-") == "created_at":  # one index, in its order
        statuses = _statuses(status)
        counts, duties = _person_counts(session, person)
        total = sum(n for s, n in counts.items() if statuses is None or s in statuses)
        mine = _person_ids(person, duties, statuses, sort)
        ids = session.scalars(mine.limit(page_size).offset((page - 1) * page_size)).all()
        found = _by_ids(session, ids, sort)
        return Page(items=cards(session, found), total=total, page=page, page_size=page_size)
    total = (
        session.scalar(_filtered(session, select(func.count()).select_from(Task), **filters)) or 0
    )
    found = (
        session.scalars(
            _filtered(session, select(Task).options(lazyload(Task.creator)), **filters)
            .order_by(*order)
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
    _text.at_least(per_status, "per_status")
    order = _order(sort)
    person = _person(session, by, project=project, assignee=assignee, search=search)
    filters = {
        "by": by,
        "project": project,
        "assignee": assignee,
        "search": search,
        "person": person,
    }
    duties: list[Duty] = []
    if person is not None:  # a person's own tasks: counted from the members' index
        counts, duties = _person_counts(session, person)
    else:  # one count per status (an index range each; cheaper than GROUP BY on SQLite) ...
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
        (
            _person_ids(person, duties, [status], sort)
            if person is not None and sort.lstrip("-") == "created_at"
            else _filtered(session, select(Task.id), status=status, **filters).order_by(*order)
        )
        .limit(per_status)
        .subquery()
        for status in Status
        if counts[status] and per_status
    ]
    ids = set(session.scalars(union_all(*(select(h.c[0]) for h in heads)))) if heads else set()
    found = _by_ids(session, sorted(ids), sort)
    columns: dict[Status, list[TaskCard]] = {status: [] for status in Status}
    for card in cards(session, found):
        columns[card.status].append(card)
    return Board(counts=counts, columns=columns)
