"""Which annotations an export of some tasks takes: the tasks checked (they exist and, unless
asked otherwise, passed review), the annotations of the chosen datasets changed within a time
range, the consensus only on independently annotated datasets, nothing exported before when
asked for only what is new, valid ones unless asked, and each one's latest review verdict.
:func:`annotation_kit.exports.plan.build` makes the export's plan of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access.workflow import Status
from ..errors import ValidationError
from ..store.models import Annotation, AnnotationVerdict, Task, TaskDataset

PASSED = (Status.REVIEW_PASSED, Status.DATA_SUBMITTED)


def checked_tasks(session: Session, ids: list[int], *, any_status: bool) -> dict[int, Task]:
    """The tasks of ``ids`` by id: each must exist and (unless ``any_status``) have passed."""
    found = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(ids)))}
    if missing := [i for i in ids if i not in found]:
        raise ValidationError(f"no task with id {', '.join(map(str, missing))}")
    if not any_status:
        unpassed = [found[i] for i in ids if found[i].status not in PASSED]
        if unpassed:
            listed = ", ".join(f"#{t.id} ({t.status.label})" for t in unpassed[:5])
            raise ValidationError(
                f"only tasks that passed review are exported by default; not passed: {listed}. "
                "Pass any_status=True to export them anyway"
            )
    return found


def changed(
    session: Session,
    ids: list[int],
    wanted: set[int],
    changed_between: tuple[datetime | None, datetime | None] | None,
) -> list[Annotation]:
    """The annotations of the tasks on the wanted datasets, changed within the time range."""
    query = select(Annotation).where(Annotation.task_id.in_(ids), Annotation.dataset_id.in_(wanted))
    if changed_between is not None:
        start, end = changed_between
        if start is not None and end is not None and end < start:
            raise ValidationError("the time range ends before it starts")
        if start is not None:
            query = query.where(Annotation.updated_at >= start)
        if end is not None:
            query = query.where(Annotation.updated_at <= end)
    return list(session.scalars(query.order_by(Annotation.dataset_id, Annotation.start_ns)))


def kept(
    session: Session,
    rows: list[Annotation],
    ids: list[int],
    *,
    exclude: set[tuple[int, int]] | None,
    include_invalid: bool,
    cleaned: list[str],
) -> list[Annotation]:
    """What of ``rows`` is exported: on independently annotated datasets the consensus only,
    nothing exported before (``exclude``), valid annotations only unless asked; what is left
    out is told in ``cleaned``."""
    independent = set(
        session.execute(
            select(TaskDataset.task_id, TaskDataset.dataset_id).where(
                TaskDataset.task_id.in_(ids), TaskDataset.independent.is_(True)
            )
        ).all()
    )
    if independent:  # independently annotated datasets: the consensus, nothing else
        settled = {(a.task_id, a.dataset_id) for a in rows if a.consensus}
        unsettled = sorted(
            {(a.task_id, a.dataset_id) for a in rows if not a.consensus} & independent - settled
        )
        if unsettled:
            cleaned.append(
                "left out the annotators' work on independently annotated dataset(s) without a "
                "consensus yet: " + ", ".join(f"#{d} (task #{t})" for t, d in unsettled)
            )
        rows = [a for a in rows if a.consensus == ((a.task_id, a.dataset_id) in independent)]
    if exclude:
        rows = [a for a in rows if (a.id, a.version) not in exclude]
    if not include_invalid:
        invalid = [a for a in rows if not a.valid]
        if invalid:
            cleaned.append(f"left out {len(invalid)} invalid annotation(s)")
        rows = [a for a in rows if a.valid]
    return rows


def task_ids(tasks: Sequence[int] | int) -> list[int]:
    """Task ids as a list of whole numbers, each once; anything else is refused."""
    if isinstance(tasks, int):
        tasks = [tasks]
    try:
        ids = sorted({int(t) for t in tasks})
    except (TypeError, ValueError):
        raise ValidationError(f"tasks must be task ids, got {tasks!r}") from None
    if not ids:
        raise ValidationError("choose at least one task to export")
    return ids


def latest_verdicts(session: Session, ids: list[int]) -> dict[int, AnnotationVerdict]:
    """Each annotation's latest review verdict (annotations without one are not in it)."""
    out: dict[int, AnnotationVerdict] = {}
    for start in range(0, len(ids), 5000):  # bounded IN lists
        part = ids[start : start + 5000]
        newest = (
            select(func.max(AnnotationVerdict.id))
            .where(AnnotationVerdict.annotation_id.in_(part))
            .group_by(AnnotationVerdict.annotation_id)
        )
        for v in session.scalars(select(AnnotationVerdict).where(AnnotationVerdict.id.in_(newest))):
            out[v.annotation_id] = v
    return out
