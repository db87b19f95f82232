"""Feedback: an annotator raises an issue on a task — the whole task, one episode, or a time
range of it (an unclear guideline, a bad recording, a missing skill, a question) — which reaches
the task's manager (who created it) and reviewers; they answer in a thread and resolve it.

Who may: the task's annotators and reviewers, the manager who created it, managers and admins
raise issues and reply; the task's reviewers, its creator, managers and admins resolve (the one
who raised it may too). Every step is in the audit log, which notifications read.

Example::

    issue = ws.feedback.raise_issue(task_id, "Is a regrasp its own segment?", kind="guideline",
                                    dataset=episode_id, range_ns=(2_000_000_000, 3_500_000_000))
    maya.feedback.reply(issue.id, "Yes: a new grasp segment.")
    maya.feedback.resolve(issue.id)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events, visibility
from ..access.workflow import Duty, duties, is_supervisor
from ..data.datasets import check_range
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import Dataset, Feedback, Task, TaskDataset, User, utcnow
from ..store.task_refs import get as get_task

__all__ = ["KINDS", "Issue", "list_issues", "open_counts", "raise_issue", "reply", "resolve"]

KINDS = ("guideline", "recording", "skill", "question")
"""What an issue is about: an unclear guideline, a bad recording, a missing skill, a question."""


@dataclass(frozen=True)
class Issue:
    """An issue with its thread."""

    id: int
    task_id: int
    kind: str
    text: str
    author: str
    created_at: datetime
    dataset_id: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    replies: list[tuple[str, datetime, str]] = field(default_factory=list)
    """(who, when, what) in order."""

    @property
    def open(self) -> bool:
        """Not resolved yet."""
        return self.resolved_at is None


def _may_discuss(task: Task, by: User) -> None:
    if is_supervisor(by) or duties(task, by) or task.creator_id == by.id:
        if not by.active:
            raise PermissionDenied(f"user '{by.name}' is disabled")
        return
    raise PermissionDenied(
        f"{by.name} ({by.role}) may not discuss task '{task.name}' (#{task.id}): its annotators, "
        "reviewers, the manager who created it, managers and admins may"
    )


def raise_issue(
    session: Session,
    task: int,
    text: str,
    *,
    kind: str = "question",
    dataset: int | None = None,
    range_ns: tuple[int, int] | None = None,
    by: User,
) -> Feedback:
    """Raise an issue on ``task`` (optionally on one ``dataset``, and a ``range_ns`` of its
    clock): ``kind`` one of :data:`KINDS`; the text is required."""
    found = get_task(session, task)
    _may_discuss(found, by)
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    _text.text(text, "issue", required=True)
    start = end = None
    if range_ns is not None and dataset is None:
        raise ValidationError("a time range needs the episode (dataset) it is on")
    if dataset is not None:
        here = session.scalar(
            select(TaskDataset.dataset_id).where(
                TaskDataset.task_id == found.id, TaskDataset.dataset_id == dataset
            )
        )
        if here is None:
            raise ValidationError(f"dataset #{dataset} is not part of task #{found.id}")
        if range_ns is not None:
            duration = session.scalar(select(Dataset.duration_ns).where(Dataset.id == dataset))
            start, end = check_range(range_ns[0], range_ns[1], duration or 0)
    row = Feedback(
        task_id=found.id,
        author_id=by.id,
        kind=kind,
        text=text,
        dataset_id=dataset,
        range_start_ns=start,
        range_end_ns=end,
    )
    session.add(row)
    session.flush()
    _record(session, row.task_id, "feedback", text, row.id, by=by, kind=kind, dataset=dataset)
    return row


def _issue(session: Session, issue: int) -> Feedback:
    row = session.get(Feedback, issue)
    if row is None or row.parent_id is not None:
        raise NotFound(f"no issue with id {issue}")
    return row


def reply(session: Session, issue: int, text: str, *, by: User) -> Feedback:
    """Answer an issue (anyone who may discuss its task); a resolved issue takes no replies."""
    found = _issue(session, issue)
    task = get_task(session, found.task_id)
    _may_discuss(task, by)
    _text.text(text, "reply", required=True)
    if found.resolved_at is not None:
        raise InvalidTransition(f"issue #{found.id} is resolved: raise a new one")
    row = Feedback(
        task_id=found.task_id, parent_id=found.id, author_id=by.id, kind=found.kind, text=text
    )
    session.add(row)
    session.flush()
    _record(session, found.task_id, "feedback_reply", text, found.id, by=by)
    return row


def resolve(session: Session, issue: int, *, note: str = "", by: User) -> Feedback:
    """Close an issue (the task's reviewers, the manager who created it, managers, admins, and
    whoever raised it), with an optional last word."""
    found = _issue(session, issue)
    task = get_task(session, found.task_id)
    allowed = (
        is_supervisor(by)
        or Duty.REVIEWER in duties(task, by)
        or task.creator_id == by.id
        or found.author_id == by.id
    )
    if not allowed or not by.active:
        raise PermissionDenied(
            f"{by.name} ({by.role}) may not resolve issue #{found.id}: the task's reviewers, "
            "its manager, managers and admins, or who raised it, may"
        )
    if found.resolved_at is not None:
        raise InvalidTransition(f"issue #{found.id} is already resolved")
    _text.text(note, "note")
    if note:
        reply(session, found.id, note, by=by)
    found.resolved_at, found.resolved_by = utcnow(), by.id
    session.flush()
    _record(session, found.task_id, "feedback_resolved", note, found.id, by=by)
    return found


def _record(
    session: Session,
    task: int,
    action: str,
    note: str,
    issue: int,
    *,
    by: User,
    kind: str | None = None,
    dataset: int | None = None,
) -> None:
    """One feedback step in the audit log, on the task (where notifications look for it)."""
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=task,
        action=action,
        note=note,
        feedback=issue,
        **({"kind": kind, "dataset": dataset} if kind is not None else {}),
    )


@readonly
def list_issues(
    session: Session, task: int, *, open_only: bool = False, by: User | None = None
) -> list[Issue]:
    """The task's issues with their threads, newest first (``open_only``: unresolved). With
    ``by`` (always, from a workspace), a task ``by`` may not see is not found."""
    if by is not None:
        visibility.require_task(session, task, by)
    get_task(session, task)
    names = dict(session.execute(select(User.id, User.name)).all())
    rows = session.scalars(
        select(Feedback).where(Feedback.task_id == task).order_by(Feedback.id)
    ).all()
    threads: dict[int, list[tuple[str, datetime, str]]] = {}
    for row in rows:
        if row.parent_id is not None:
            threads.setdefault(row.parent_id, []).append(
                (names.get(row.author_id, ""), row.created_at, row.text)
            )
    issues = [
        Issue(
            id=row.id,
            task_id=row.task_id,
            kind=row.kind,
            text=row.text,
            author=names.get(row.author_id, ""),
            created_at=row.created_at,
            dataset_id=row.dataset_id,
            start_ns=row.range_start_ns,
            end_ns=row.range_end_ns,
            resolved_at=row.resolved_at,
            resolved_by=names.get(row.resolved_by) if row.resolved_by else None,
            replies=threads.get(row.id, []),
        )
        for row in rows
        if row.parent_id is None
    ]
    return [i for i in reversed(issues) if i.open or not open_only]


@readonly
def open_counts(session: Session, tasks: Sequence[int]) -> dict[int, int]:
    """Open issues per task, for the given task ids (tasks without any are left out)."""
    counts: dict[int, int] = {}
    for task_id in session.scalars(
        select(Feedback.task_id).where(
            Feedback.task_id.in_(list(tasks)),
            Feedback.parent_id.is_(None),
            Feedback.resolved_at.is_(None),
        )
    ):
        counts[task_id] = counts.get(task_id, 0) + 1
    return counts
