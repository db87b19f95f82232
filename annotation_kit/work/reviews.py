"""Review records: task-level decisions (made through the workflow in :mod:`tasks`) and
per-annotation verdicts, each optionally anchored to a time range of the episode. The sample
of datasets a round looks at is :mod:`review_sampling`'s, what changed since the previous round
:mod:`review_rounds`'s; their services are reached here too (``ws.reviews.draw_sample``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events
from ..access.workflow import Action, check
from ..data.datasets import check_range
from ..errors import InvalidTransition, PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import (
    Annotation,
    AnnotationVerdict,
    Dataset,
    Decision,
    Review,
    User,
)
from . import annotations, tasks
from .review_rounds import Change, changes_since_last_round
from .review_sampling import (
    Sample,
    current_sample,
    draw_by_policy,
    draw_sample,
    review_policy,
    set_review_policy,
)

__all__ = [
    "Change",
    "Comment",
    "Sample",
    "changes_since_last_round",
    "comments",
    "current_sample",
    "draw_by_policy",
    "draw_sample",
    "judge",
    "review_policy",
    "set_review_policy",
    "task_reviews",
    "verdicts",
]


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


@dataclass(frozen=True)
class Comment:
    """What a reviewer said about an episode: a rejection or a comment on one annotation
    (``annotation`` is its id) or on the task (``annotation`` is 0), anchored in time if given."""

    round: int
    decision: str
    comment: str
    annotation: int
    dataset: int | None
    start_ns: int | None
    end_ns: int | None


@readonly
def comments(session: Session, task: int, *, dataset: int | None = None) -> list[Comment]:
    """Review comments of a task (or of one of its datasets): per-annotation rejections and
    comments first, then task-level comments, each oldest first."""
    on_annotations = (
        select(AnnotationVerdict, Annotation.dataset_id)
        .join(Annotation, Annotation.id == AnnotationVerdict.annotation_id)
        .where(AnnotationVerdict.task_id == task)
        .where((AnnotationVerdict.comment != "") | (AnnotationVerdict.decision == Decision.REJECT))
    )
    on_task = select(Review).where(Review.task_id == task, Review.comment != "")
    if dataset is not None:
        on_annotations = on_annotations.where(Annotation.dataset_id == dataset)
        on_task = on_task.where(Review.dataset_id == dataset)
    found = [
        Comment(v.round, str(v.decision), v.comment, v.annotation_id, where, *_range(v))
        for v, where in session.execute(on_annotations.order_by(AnnotationVerdict.id)).all()
    ]
    return found + [
        Comment(r.round, str(r.decision), r.comment, 0, r.dataset_id, *_range(r))
        for r in session.scalars(on_task.order_by(Review.id))
    ]


def _range(row: AnnotationVerdict | Review) -> tuple[int | None, int | None]:
    return row.range_start_ns, row.range_end_ns
