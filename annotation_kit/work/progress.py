"""How far tasks are: datasets annotated, completion, per-annotator counts, time remaining.

Only people's work counts as done (:data:`HUMAN`): segments that came with the data (provenance
``import``) or from a model (``model``) are counted apart, as ``imported``, so an episode whose
source carried task strings is not "annotated" before anyone has touched it, and nobody is
credited with annotations they never made.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Text, case, cast, func, select
from sqlalchemy.orm import Session

from ..store.database import readonly
from ..store.models import Annotation, Dataset, Provenance, Skill, TaskDataset, User, utcnow
from . import tasks

__all__ = [
    "AnnotatorProgress",
    "Counts",
    "DatasetStatus",
    "Progress",
    "Statistics",
    "counts",
    "dataset_status",
    "statistics",
    "task_progress",
]


HUMAN = Annotation.provenance == Provenance.HUMAN
"""The annotations that are a person's work (not imported with the data, not a model's)."""


@dataclass(frozen=True)
class Counts:
    """How far a task is: datasets, annotated datasets, annotations, invalid marks."""

    datasets: int = 0
    annotated: int = 0
    """Datasets with at least one annotation or invalid mark made by a person."""
    annotations: int = 0
    """Annotations made by people."""
    imported: int = 0
    """Annotations that came with the data or from a model (not counted as done)."""

    @property
    def completion(self) -> float:
        """Share of datasets annotated, 0.0 to 1.0."""
        return self.annotated / self.datasets if self.datasets else 0.0


@dataclass(frozen=True)
class AnnotatorProgress:
    """One annotator's share of a task."""

    user: str
    annotations: int
    datasets: int


@dataclass(frozen=True)
class Progress:
    """A task's progress: counts, per annotator, and the time left to its deadline."""

    task_id: int
    counts: Counts
    per_annotator: list[AnnotatorProgress]
    remaining: timedelta | None
    """Estimated time to finish at the throughput so far (None before any progress)."""

    @property
    def completion(self) -> float:
        """Annotated datasets as a fraction of all (0 to 1)."""
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
    human = func.count(func.distinct(case((HUMAN, Annotation.dataset_id))))
    rows = session.execute(
        select(
            Annotation.task_id,
            human,
            func.sum(case((HUMAN, 1), else_=0)),
            func.sum(case((HUMAN, 0), else_=1)),
        )
        .where(Annotation.task_id.in_(ids))
        .group_by(Annotation.task_id)
    ).all()
    done = {task_id: (int(a), int(n or 0), int(m or 0)) for task_id, a, n, m in rows}
    return {i: Counts(linked.get(i, 0), *done.get(i, (0, 0, 0))) for i in ids}


@readonly
def task_progress(session: Session, task: int) -> Progress:
    """Progress of one task, per annotator, and an estimate of the time left."""
    found = tasks.get(session, task)
    total = counts(session, [found.id])[found.id]
    rows = session.execute(
        select(User.name, func.count(), func.count(func.distinct(Annotation.dataset_id)))
        .join(User, User.id == Annotation.author_id)
        .where(Annotation.task_id == found.id, HUMAN)
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


@dataclass(frozen=True)
class DatasetStatus:
    """Where one dataset of a task stands."""

    id: int
    name: str
    duration_s: float
    annotations: int
    """Annotations of it made by people."""
    invalid: int
    """Annotations of it marked invalid (with a reason)."""
    imported: int = 0
    """Annotations of it that came with the data or from a model."""

    @property
    def status(self) -> str:
        """``to do`` (nothing by a person yet), ``invalid`` (only invalid marks) or
        ``annotated``."""
        if not self.annotations:
            return "to do"
        return "invalid" if self.invalid == self.annotations else "annotated"


@readonly
def dataset_status(session: Session, task: int) -> list[DatasetStatus]:
    """Each dataset of a task with its annotation and invalid-mark counts, in id order."""
    found = tasks.get(session, task)
    invalid = func.sum(case((Annotation.valid.is_(False) & HUMAN, 1), else_=0))
    done = (
        select(
            Annotation.dataset_id.label("dataset_id"),
            func.sum(case((HUMAN, 1), else_=0)).label("n"),
            invalid.label("invalid"),
            func.sum(case((HUMAN, 0), else_=1)).label("imported"),
        )
        .where(Annotation.task_id == found.id)
        .group_by(Annotation.dataset_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Dataset.id,
            Dataset.name,
            Dataset.duration_ns,
            done.c.n,
            done.c.invalid,
            done.c.imported,
        )
        .join(TaskDataset, TaskDataset.dataset_id == Dataset.id)
        .outerjoin(done, done.c.dataset_id == Dataset.id)
        .where(TaskDataset.task_id == found.id)
        .order_by(Dataset.id)
    ).all()
    return [
        DatasetStatus(i, name, round(ns / 1e9, 3), int(n or 0), int(bad or 0), int(imp or 0))
        for i, name, ns, n, bad, imp in rows
    ]


@dataclass(frozen=True)
class Statistics:
    """What a task's annotations say, counted: per skill, label and annotator."""

    task_id: int
    annotations: int
    segments: int
    invalid: int
    per_skill: dict[str, int]
    """Valid annotations per skill name (``(none)`` for annotations without a skill)."""
    per_label: dict[str, int]
    per_annotator: dict[str, int]
    per_provenance: dict[str, int]


@readonly
def statistics(session: Session, task: int) -> Statistics:
    """Counts of a task's annotations per skill, label, annotator and provenance: each a
    ``GROUP BY`` in the database (a label set is decoded once per distinct set), so a task's
    details cost the same at ten annotations and at a million."""
    found = tasks.get(session, task)
    mine = Annotation.task_id == found.id
    valid = Annotation.valid.is_(True)
    total, segments, invalid = session.execute(
        select(
            func.count(),
            func.sum(case((Annotation.kind == "segment", 1), else_=0)),
            func.sum(case((valid, 0), else_=1)),
        ).where(mine)
    ).one()
    skill = Counter(
        {
            name or "(none)": n
            for name, n in session.execute(
                select(Skill.name, func.count())
                .select_from(Annotation)
                .outerjoin(Skill, Skill.id == Annotation.skill_id)
                .where(mine, valid)
                .group_by(Skill.name)
            )
        }
    )
    label: Counter[str] = Counter()
    as_text = cast(Annotation.labels, Text)
    for text, n in session.execute(
        select(as_text, func.count()).where(mine, valid).group_by(as_text)
    ):
        for name in json.loads(text) if text else []:
            label[name] += n
    author = Counter(  # imported and model segments are no one's work
        dict(
            session.execute(
                select(User.name, func.count())
                .select_from(Annotation)
                .join(User, User.id == Annotation.author_id)
                .where(mine, HUMAN)
                .group_by(User.name)
            ).all()
        )
    )
    source = Counter(
        {
            str(Provenance(p)): n
            for p, n in session.execute(
                select(Annotation.provenance, func.count())
                .where(mine)
                .group_by(Annotation.provenance)
            )
        }
    )

    def ordered(counter: Counter) -> dict[str, int]:
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    return Statistics(
        found.id,
        int(total),
        int(segments or 0),
        int(invalid or 0),
        ordered(skill),
        ordered(label),
        ordered(author),
        ordered(source),
    )
