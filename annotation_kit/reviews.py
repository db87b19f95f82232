"""Review records: task-level decisions (made through the workflow in :mod:`tasks`) and
per-annotation verdicts, each optionally anchored to a time range of the episode."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import _text, annotations, events, tasks
from .database import readonly
from .datasets import check_range
from .errors import InvalidTransition, PermissionDenied, ValidationError
from .models import AnnotationVerdict, Dataset, Decision, Review, User
from .workflow import Action, check


def judge(
    session: Session,
    annotation_id: int,
    decision: str,
    *,
    comment: str = "",
    range_ns: tuple[int, int] | None = None,
    by: User,
) -> AnnotationVerdict:
    """Pass or reject one annotation in the task's current review round.

    Only those who may approve the task (its reviewers, managers, admins) may, and only while it
    is Pending Review; a rejection needs a comment. Judging again in the same round replaces the
    earlier verdict.
    """
    try:
        verdict = Decision(decision)
    except ValueError:
        raise ValidationError(f"decision must be 'pass' or 'reject', got {decision!r}") from None
    _text.text(comment, "comment", required=verdict == Decision.REJECT)
    annotation = annotations.get(session, annotation_id)
    task = tasks.get(session, annotation.task_id)
    try:  # judging an annotation is part of deciding the task: same people, same status
        check(task, by, Action.APPROVE)
    except (InvalidTransition, PermissionDenied) as exc:
        raise type(exc)(f"{by.name} may not judge annotation #{annotation.id}: {exc}") from None
    start = end = None
    if range_ns is not None:
        duration = (
            session.scalar(select(Dataset.duration_ns).where(Dataset.id == annotation.dataset_id))
            or 0
        )
        start, end = check_range(range_ns[0], range_ns[1], duration)
    row = session.scalar(
        select(AnnotationVerdict).where(
            AnnotationVerdict.annotation_id == annotation.id,
            AnnotationVerdict.round == task.review_round,
            AnnotationVerdict.reviewer_id == by.id,
        )
    )
    if row is None:
        row = AnnotationVerdict(
            task_id=task.id, annotation_id=annotation.id, round=task.review_round, reviewer_id=by.id
        )
        session.add(row)
    row.annotation_version = annotation.version
    row.decision, row.comment = verdict, comment
    row.range_start_ns, row.range_end_ns = start, end
    session.flush()
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action=f"review_{verdict.value}",
        note=comment,
        round=task.review_round,
    )
    return row


@readonly
def task_reviews(session: Session, task: int) -> Sequence[Review]:
    """Task-level review decisions, oldest first."""
    return session.scalars(select(Review).where(Review.task_id == task).order_by(Review.id)).all()


@readonly
def verdicts(
    session: Session, task: int, *, round: int | None = None
) -> Sequence[AnnotationVerdict]:
    """Per-annotation verdicts of a task (optionally of one round), oldest first."""
    query = select(AnnotationVerdict).where(AnnotationVerdict.task_id == task)
    if round is not None:
        query = query.where(AnnotationVerdict.round == round)
    return session.scalars(query.order_by(AnnotationVerdict.id)).all()
