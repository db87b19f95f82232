"""Gold episodes: an episode whose annotations in one task are the reference, mixed into other
tasks unseen so that each annotator's work on it can be measured against the reference
(``ws.analytics.gold()``: tIoU, boundary F1 and skill agreement per annotator).

The reference is the task's valid segments of the episode (its consensus, when the episode was
annotated independently there). Annotators of other tasks never see it: they see only their own
task's annotations.

Example::

    ws.gold.mark(task_id, dataset_id)        # this task's annotations of it are the reference
    ws.gold.mix(new_task_id, count=2)        # add two gold episodes of the project to a task
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import events
from ..access.workflow import require_supervisor
from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.models import Annotation, AnnotationKind, Dataset, GoldEpisode, TaskDataset, User
from ..store.task_refs import get as get_task

__all__ = ["list_gold", "mark", "mix", "unmark"]


def mark(session: Session, task: int, dataset: int, *, by: User) -> GoldEpisode:
    """Make the annotations of ``dataset`` in ``task`` the reference for that episode (managers
    and admins; the episode needs valid segments there, and a consensus if it was annotated
    independently). Marking it again from another task moves the reference."""
    require_supervisor(by, "mark gold episodes")
    found = get_task(session, task)
    place = session.scalar(
        select(TaskDataset).where(
            TaskDataset.task_id == found.id, TaskDataset.dataset_id == dataset
        )
    )
    if place is None:
        raise ValidationError(f"dataset #{dataset} is not part of task #{found.id}")
    reference = session.scalar(
        select(Annotation.id)
        .where(
            Annotation.task_id == found.id,
            Annotation.dataset_id == dataset,
            Annotation.kind == AnnotationKind.SEGMENT,
            Annotation.valid.is_(True),
            Annotation.consensus.is_(place.independent),
        )
        .limit(1)
    )
    if reference is None:
        what = "no consensus" if place.independent else "no valid segment"
        raise ValidationError(
            f"dataset #{dataset} has {what} in task #{found.id}: nothing to use as the reference"
        )
    row = session.get(GoldEpisode, dataset)
    if row is None:
        row = GoldEpisode(dataset_id=dataset, task_id=found.id, created_by=by.id)
        session.add(row)
    else:
        row.task_id, row.created_by = found.id, by.id
    session.flush()
    events.record(
        session, by=by, object_type="dataset", object_id=dataset, action="gold", task=found.id
    )
    return row


def unmark(session: Session, dataset: int, *, by: User) -> None:
    """The episode is no longer a reference (managers and admins)."""
    require_supervisor(by, "unmark gold episodes")
    row = session.get(GoldEpisode, dataset)
    if row is None:
        raise NotFound(f"dataset #{dataset} is not a gold episode")
    session.delete(row)
    session.flush()
    events.record(session, by=by, object_type="dataset", object_id=dataset, action="gold_removed")


@readonly
def list_gold(session: Session) -> Sequence[GoldEpisode]:
    """Every gold episode, by dataset id."""
    return session.scalars(select(GoldEpisode).order_by(GoldEpisode.dataset_id)).all()


def mix(
    session: Session, task: int, *, count: int = 1, seed: int | None = None, by: User
) -> list[int]:
    """Add ``count`` gold episodes the task does not have yet (of the task's project, when it
    has one) to the task, drawn at random (``seed`` repeats a draw); nothing tells its
    annotators which they are. Returns the added dataset ids."""
    require_supervisor(by, "mix gold episodes into tasks")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValidationError(f"count must be a whole number of at least 1, got {count!r}")
    found = get_task(session, task)
    have = set(session.scalars(select(TaskDataset.dataset_id).where(TaskDataset.task_id == task)))
    query = select(GoldEpisode.dataset_id).join(Dataset, Dataset.id == GoldEpisode.dataset_id)
    if found.project_id is not None:
        query = query.where(Dataset.project_id == found.project_id)
    candidates = [
        d for d in session.scalars(query.order_by(GoldEpisode.dataset_id)) if d not in have
    ]
    if len(candidates) < count:
        raise ValidationError(
            f"task #{task} can take {len(candidates)} more gold episode(s) of its project, "
            f"not {count}"
        )
    chosen = sorted(random.Random(seed).sample(candidates, count))
    session.add_all(TaskDataset(task_id=found.id, dataset_id=d) for d in chosen)
    session.flush()
    events.record(
        session, by=by, object_type="task", object_id=found.id, action="gold_mixed", datasets=chosen
    )
    return chosen
