"""Finding datasets: filtered, paginated lists and "all matching" selections for browsing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from ..access import projects, visibility
from ..access._inputs import check_call
from ..access.workflow import ACTIVE
from ..errors import ValidationError
from ..store._paging import Page, check_page, contains
from ..store.database import readonly
from ..store.models import Annotation, Dataset, Task, TaskDataset, User

ASSIGNMENT = ("", "unassigned", "assigned", "annotated", "not_annotated")
SECOND = 1_000_000_000
MAX_S = 2**62 / SECOND
"""The longest duration a filter may name (the clock is 64-bit nanoseconds)."""


def _checked(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` once each fits its declared type (unknown ones named)."""
    check_call(_filtered, (None,), filters)
    return filters


@dataclass(frozen=True)
class DatasetRow:
    """One dataset as a list shows it: its metadata, project and active tasks."""

    id: int
    name: str
    format: str
    duration_s: float
    cameras: int
    robot: str
    tags: list[str]
    qc_status: str
    project: str | None
    created_at: datetime
    active_tasks: list[str]
    """Names of the active tasks the dataset is in."""


DatasetPage = Page[DatasetRow]


def _filtered(
    session: Session,
    query: Select[Any],
    *,
    by: User,
    search: str | None = None,
    project: str | int | None = None,
    tag: str | None = None,
    robot: str | None = None,
    format: str | None = None,
    min_duration_s: float | None = None,
    max_duration_s: float | None = None,
    since: datetime | None = None,
    qc_status: str | None = None,
    assignment: str | None = None,
) -> Select[Any]:
    query = query.where(visibility.datasets_seen(by))
    if min_duration_s is not None and abs(min_duration_s) > MAX_S:
        raise ValidationError(f"min_duration_s is {min_duration_s}; at most {MAX_S:.0f} s")
    if max_duration_s is not None and abs(max_duration_s) > MAX_S:
        raise ValidationError(f"max_duration_s is {max_duration_s}; at most {MAX_S:.0f} s")
    if search:
        query = query.where(
            Dataset.name.ilike(contains(search), escape="\\")
            | Dataset.source_uri.ilike(contains(search), escape="\\")
        )
    if project is not None:
        query = query.where(Dataset.project_id == projects.get(session, project).id)
    if tag:  # the JSON text of the list holds the tag as a quoted string: non-ASCII escaped
        # (SQLite: as our JSON serializer wrote it) or as it is (PostgreSQL's jsonb text)
        text = cast(Dataset.tags, Text)
        forms = {json.dumps(tag), json.dumps(tag, ensure_ascii=False)}
        query = query.where(or_(*(text.like(contains(f), escape="\\") for f in forms)))
    if robot:
        query = query.where(Dataset.robot == robot)
    if format:
        query = query.where(Dataset.format == format)
    if min_duration_s is not None:
        query = query.where(Dataset.duration_ns >= round(min_duration_s * SECOND))
    if max_duration_s is not None:
        query = query.where(Dataset.duration_ns <= round(max_duration_s * SECOND))
    if since is not None:
        query = query.where(Dataset.created_at >= since)
    if qc_status:
        query = query.where(Dataset.qc_status == qc_status)
    if assignment not in ASSIGNMENT and assignment is not None:
        raise ValidationError(f"assignment must be one of {', '.join(a for a in ASSIGNMENT if a)}")
    in_active = (
        select(TaskDataset.dataset_id)
        .join(Task, Task.id == TaskDataset.task_id)
        .where(TaskDataset.dataset_id == Dataset.id, Task.status.in_(ACTIVE))
        .exists()
    )
    annotated = select(Annotation.id).where(Annotation.dataset_id == Dataset.id).exists()
    if assignment == "unassigned":
        query = query.where(~in_active)
    elif assignment == "assigned":
        query = query.where(in_active)
    elif assignment == "annotated":
        query = query.where(annotated)
    elif assignment == "not_annotated":
        query = query.where(~annotated)
    return query


@readonly
def list_datasets(
    session: Session, *, by: User, page: int = 1, page_size: int = 50, **filters: Any
) -> DatasetPage:
    """One page of the datasets ``by`` may see (:mod:`annotation_kit.access.visibility`) matching
    the filters, newest first.

    Filters: ``search`` (name or URI), ``project``, ``tag``, ``robot``, ``format``,
    ``min_duration_s``/``max_duration_s``, ``since`` (upload time), ``qc_status``, ``assignment``
    (``unassigned``, ``assigned`` to an active task, ``annotated``, ``not_annotated``).
    """
    check_page(page, page_size)
    filters = _checked(filters)
    total = (
        session.scalar(
            _filtered(session, select(func.count()).select_from(Dataset), by=by, **filters)
        )
        or 0
    )
    found = session.scalars(
        _filtered(session, select(Dataset), by=by, **filters)
        .order_by(Dataset.created_at.desc(), Dataset.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids = [d.id for d in found]
    busy: dict[int, list[str]] = {}
    for dataset_id, name in session.execute(
        select(TaskDataset.dataset_id, Task.name)
        .join(Task, Task.id == TaskDataset.task_id)
        .where(TaskDataset.dataset_id.in_(ids), Task.status.in_(ACTIVE))
    ):
        busy.setdefault(dataset_id, []).append(name)
    names = {p.id: p.name for p in projects.list_projects(session)}
    rows = [
        DatasetRow(
            id=d.id,
            name=d.name,
            format=d.format,
            duration_s=round(d.duration_ns / SECOND, 2),
            cameras=len(d.cameras),
            robot=d.robot,
            tags=list(d.tags),
            qc_status=d.qc_status,
            project=names.get(d.project_id) if d.project_id else None,
            created_at=d.created_at,
            active_tasks=busy.get(d.id, []),
        )
        for d in found
    ]
    return Page(items=rows, total=total, page=page, page_size=page_size)


@readonly
def matching_ids(session: Session, *, by: User, **filters: Any) -> list[int]:
    """Ids of every dataset ``by`` may see matching the filters, across all pages."""
    query = _filtered(session, select(Dataset.id), by=by, **_checked(filters))
    return list(session.scalars(query.order_by(Dataset.id)))


@readonly
def facets(session: Session, *, by: User) -> dict[str, list[str]]:
    """Values to offer in filters, from the datasets ``by`` may see: formats, robots, tags."""
    seen = visibility.datasets_seen(by)
    formats = sorted(session.scalars(select(Dataset.format).where(seen).distinct()))
    robots = sorted(r for r in session.scalars(select(Dataset.robot).where(seen).distinct()) if r)
    tags: set[str] = set()
    for row in session.scalars(select(Dataset.tags).where(seen).distinct().limit(5000)):
        tags.update(row)
    return {"formats": formats, "robots": robots, "tags": sorted(tags)}
