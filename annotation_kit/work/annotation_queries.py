"""Reading annotations: a task's annotations in time order, a page of them, recent descriptions,
and what one annotation says as plain values.

Re-exported by :mod:`annotation_kit.work.annotations` (``ws.annotations.list_annotations(...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..access import _text, visibility
from ..store._paging import Page, check_page
from ..store.database import readonly
from ..store.models import Annotation, Skill, TaskDataset, User

__all__ = ["list_annotations", "page_annotations", "recent_descriptions", "values"]


def _of_task(
    task: int, dataset: int | None, valid: bool | None, author: int | None = None
) -> Select[Annotation]:
    query = select(Annotation).where(Annotation.task_id == task)
    if author is not None:  # what that annotator sees: their own work on independent datasets
        independent = (
            select(TaskDataset.dataset_id)
            .where(TaskDataset.task_id == task, TaskDataset.independent.is_(True))
            .scalar_subquery()
        )
        query = query.where(
            Annotation.consensus.is_(False),
            (Annotation.author_id == author) | Annotation.dataset_id.not_in(independent),
        )
    if dataset is not None:
        query = query.where(Annotation.dataset_id == dataset)
    if valid is not None:
        query = query.where(Annotation.valid.is_(valid))
    return query


_TIME_ORDER = (Annotation.dataset_id, Annotation.start_ns.nulls_first(), Annotation.id)


@readonly
def list_annotations(
    session: Session,
    task: int,
    *,
    dataset: int | None = None,
    valid: bool | None = None,
    author: int | None = None,
    by: User | None = None,
) -> Sequence[Annotation]:
    """Annotations of a task (optionally of one dataset, or only valid/invalid), in time order;
    ``author``: as that annotator sees them (on independently annotated datasets only their
    own, never the consensus — see :mod:`annotation_kit.work.consensus`). With ``by`` (always,
    from a workspace), a task ``by`` may not see is not found
    (:mod:`annotation_kit.access.visibility`)."""
    if by is not None:
        visibility.require_task(session, task, by)
    return session.scalars(_of_task(task, dataset, valid, author).order_by(*_TIME_ORDER)).all()


@readonly
def page_annotations(
    session: Session,
    task: int,
    *,
    dataset: int | None = None,
    valid: bool | None = None,
    author: int | None = None,
    page: int = 1,
    page_size: int = 50,
    by: User | None = None,
) -> Page[Annotation]:
    """One page of :func:`list_annotations` (same order, ``author`` view and ``by`` check),
    read from the database page by page; a page past the last gives the last page."""
    check_page(page, page_size)
    if by is not None:
        visibility.require_task(session, task, by)
    query = _of_task(task, dataset, valid, author)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(page, max(1, -(-total // page_size)))
    items = session.scalars(
        query.order_by(*_TIME_ORDER).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(items=list(items), total=total, page=page, page_size=page_size)


@readonly
def recent_descriptions(session: Session, *, limit: int = 50) -> list[str]:
    """Distinct descriptions written lately, newest first (suggestions while typing)."""
    rows = session.execute(
        select(Annotation.description, func.max(Annotation.id).label("last"))
        .where(Annotation.description != "")
        .group_by(Annotation.description)
        .order_by(func.max(Annotation.id).desc())
        .limit(_text.at_least(limit, "limit"))
    ).all()
    return [text for text, _last in rows]


SHOWN = ("start_ns", "end_ns", "skill", "labels", "description", "valid", "reason")
"""What an annotation says, as :func:`values` returns it (skills by name)."""


def values(session: Session, annotation: Annotation, keys: Sequence[str] = SHOWN) -> dict[str, Any]:
    """The current ``keys`` of an annotation as plain values: skill by name, labels as a list,
    ``reason`` for its invalid reason (what event logs, undo and review diffs compare)."""
    out: dict[str, Any] = {}
    for key in keys:
        if key == "skill":
            skill = session.get(Skill, annotation.skill_id) if annotation.skill_id else None
            out[key] = skill.name if skill else None
        elif key == "labels":
            out[key] = list(annotation.labels or [])
        elif key == "reason":
            out[key] = annotation.invalid_reason
        else:
            out[key] = getattr(annotation, key)
    return out
