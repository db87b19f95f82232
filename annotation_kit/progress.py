"""How far tasks are: datasets annotated, completion, per-annotator counts, time remaining."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import tasks
from .database import readonly
from .models import Annotation, TaskDataset, User, utcnow


@dataclass(frozen=True)
class Counts:
    datasets: int = 0
    annotated: int = 0
    """Datasets with at least one annotation or invalid mark."""
    annotations: int = 0

    @property
    def completion(self) -> float:
        """Share of datasets annotated, 0.0 to 1.0."""
        return self.annotated / self.datasets if self.datasets else 0.0


@dataclass(frozen=True)
class AnnotatorProgress:
    user: str
    annotations: int
    datasets: int


@dataclass(frozen=True)
class Progress:
    task_id: int
    counts: Counts
    per_annotator: list[AnnotatorProgress]
    remaining: timedelta | None
    """Estimated time to finish at the throughput so far (None before any progress)."""

    @property
    def completion(self) -> float:
        return self.counts.completion


def counts(session: Session, task_ids: Iterable[int]) -> dict[int, Counts]:
    """Dataset, annotated-dataset and annotation counts for many tasks in three queries."""
    ids = list(task_ids)
    if not ids:
        return {}
    linked = dict(
        session.execute(
            select(TaskDataset.task_id, func.count())
            .where(TaskDataset.task_id.in_(ids))
            .group_by(TaskDataset.task_id)
        ).all()
    )
    rows = session.execute(
        select(Annotation.task_id, func.count(func.distinct(Annotation.dataset_id)), func.count())
        .where(Annotation.task_id.in_(ids))
        .group_by(Annotation.task_id)
    ).all()
    done = {task_id: (annotated, total) for task_id, annotated, total in rows}
    return {
        i: Counts(
            datasets=linked.get(i, 0),
            annotated=done.get(i, (0, 0))[0],
            annotations=done.get(i, (0, 0))[1],
        )
        for i in ids
    }


@readonly
def task_progress(session: Session, task: int) -> Progress:
    """Progress of one task, per annotator, and an estimate of the time left."""
    found = tasks.get(session, task)
    total = counts(session, [found.id])[found.id]
    rows = session.execute(
        select(User.name, func.count(), func.count(func.distinct(Annotation.dataset_id)))
        .join(User, User.id == Annotation.author_id)
        .where(Annotation.task_id == found.id)
        .group_by(User.name)
        .order_by(User.name)
    ).all()
    per = {name: AnnotatorProgress(name, n, d) for name, n, d in rows}
    for person in found.annotators:
        per.setdefault(person.name, AnnotatorProgress(person.name, 0, 0))
    remaining = None
    if found.started_at and total.annotated:
        elapsed = utcnow() - found.started_at
        remaining = elapsed / total.annotated * (total.datasets - total.annotated)
    return Progress(found.id, total, sorted(per.values(), key=lambda p: p.user), remaining)
