"""Annotations: time segments and episode-level verdicts or invalid marks on a task's datasets.

A segment has ``start_ns``/``end_ns`` on the episode clock (integer nanoseconds from the episode
start); leaving both out makes an episode-level annotation. Every change states the version the
caller last saw; if someone saved in between, :class:`ConflictError` names both versions and
nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events
from ..access._inputs import check_call
from ..access.workflow import Duty, check_annotation_edit, duties, is_supervisor
from ..data.datasets import check_range
from ..errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ..library import dictionaries, skills
from ..store.models import Annotation, AnnotationKind, Dataset, Provenance, TaskDataset, User
from . import tasks
from .annotation_queries import (
    list_annotations,
    page_annotations,
    recent_descriptions,
    values,
)

__all__ = [
    "add",
    "copy_segments",
    "delete",
    "get",
    "list_annotations",
    "mark_invalid",
    "page_annotations",
    "reannotate",
    "recent_descriptions",
    "set_valid",
    "update",
    "values",
]

_EDITABLE = ("start_ns", "end_ns", "skill", "labels", "description", "attributes")


def get(session: Session, annotation_id: int) -> Annotation:
    """The annotation with this id (:class:`NotFound` if there is none)."""
    found = session.get(Annotation, annotation_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no annotation with id {annotation_id}")
    return found


def _span(
    session: Session, task_id: int, dataset_id: int, start_ns: object, end_ns: object
) -> tuple[AnnotationKind, int | None, int | None]:
    if session.get(TaskDataset, (task_id, dataset_id)) is None:
        raise ValidationError(f"dataset #{dataset_id} is not part of task #{task_id}")
    if start_ns is None and end_ns is None:
        return AnnotationKind.EPISODE, None, None
    if start_ns is None or end_ns is None:
        raise ValidationError(
            "give both start_ns and end_ns for a segment, or neither for the whole episode"
        )
    duration = session.scalar(select(Dataset.duration_ns).where(Dataset.id == dataset_id)) or 0
    start, end = check_range(start_ns, end_ns, duration)
    return AnnotationKind.SEGMENT, start, end


def add(
    session: Session,
    task: int,
    dataset: int,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    skill: str | int | None = None,
    labels: Sequence[str] = (),
    description: str = "",
    attributes: dict[str, Any] | None = None,
    provenance: str = "human",
    model_ref: str | None = None,
    by: User,
) -> Annotation:
    """Add a segment (``start_ns``/``end_ns``) or, with neither, an episode-level annotation.

    ``skill`` names an entry of the skill library (its current version is kept); ``labels`` must
    come from dictionaries. Example::

        annotations.add(s, task_id, dataset_id, start_ns=0, end_ns=2_500_000_000,
                        skill="pick", labels=["cube"], description="pick the red cube", by=me)
    """
    found_task = tasks.get(session, task)
    check_annotation_edit(found_task, by)
    kind, start, end = _span(session, found_task.id, dataset, start_ns, end_ns)
    origin = _provenance(provenance, model_ref)
    annotation = Annotation(
        task_id=found_task.id,
        dataset_id=dataset,
        author_id=by.id,
        kind=kind,
        start_ns=start,
        end_ns=end,
        labels=dictionaries.check_labels(session, labels, task=found_task.id),
        description=_text.text(description, "description"),
        attributes=dict(attributes or {}),
        provenance=origin,
        model_ref=model_ref,
    )
    _set_skill(session, annotation, skill)
    session.add(annotation)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action="create",
        task=found_task.id,
        dataset=dataset,
    )
    return annotation


def _provenance(value: str, model_ref: str | None) -> Provenance:
    try:
        origin = Provenance(value)
    except ValueError:
        raise ValidationError(
            f"unknown provenance {value!r}; use one of {', '.join(Provenance)}"
        ) from None
    if model_ref is not None:
        _text.optional_name(model_ref, "model_ref")
    if origin == Provenance.MODEL and not model_ref:
        raise ValidationError("an annotation made by a model needs model_ref (which model)")
    return origin


def _set_skill(session: Session, annotation: Annotation, skill: str | int | None) -> None:
    if skill is None:
        annotation.skill_id = annotation.skill_version = None
        return
    found = skills.get(session, skill)
    if found.id != annotation.skill_id:  # a skill already on it stays, even if retired since
        offered = skills.offered(session, annotation.task_id)
        if found not in offered:
            why = "is deprecated" if found.deprecated else "is not one of the project's skills"
            raise ValidationError(
                f"skill {found.name!r} {why}; offered: "
                f"{', '.join(s.name for s in offered[:30]) or 'none'}"
            )
    annotation.skill_id, annotation.skill_version = found.id, found.version


def _load_for_change(
    session: Session, annotation_id: int, expected_version: int, by: User
) -> Annotation:
    annotation = session.get(
        Annotation, annotation_id, with_for_update={"of": Annotation}, populate_existing=True
    )  # locked: a concurrent change is seen here as a version, not lost at the write
    if annotation is None:
        raise NotFound(f"no annotation with id {annotation_id}")
    if annotation.version != expected_version:
        raise ConflictError(
            f"annotation #{annotation.id} was changed by someone else: you edited version "
            f"{expected_version}, the stored version is {annotation.version}. Nothing was "
            f"overwritten; reload it and apply your change again.",
            expected=expected_version,
            actual=annotation.version,
        )
    check_annotation_edit(tasks.get(session, annotation.task_id), by)
    _check_own_work(session, annotation, by)
    return annotation


def _check_own_work(session: Session, annotation: Annotation, by: User) -> None:
    """On an independently annotated dataset an annotator changes only their own segments,
    and the consensus only through :func:`annotation_kit.work.consensus.adopt`."""
    if annotation.consensus:
        raise PermissionDenied(
            f"annotation #{annotation.id} is part of the consensus a reviewer picked: pick the "
            "consensus again (ws.consensus.adopt) to change it"
        )
    if annotation.author_id == by.id or is_supervisor(by):
        return
    independent = session.scalar(
        select(TaskDataset.independent).where(
            TaskDataset.task_id == annotation.task_id,
            TaskDataset.dataset_id == annotation.dataset_id,
        )
    )
    if independent:
        raise PermissionDenied(
            f"annotation #{annotation.id} is another annotator's work on dataset "
            f"#{annotation.dataset_id}, which each annotator annotates independently"
        )


def update(
    session: Session, annotation_id: int, *, expected_version: int, by: User, **changes: Any
) -> Annotation:
    """Change ``start_ns``, ``end_ns``, ``skill``, ``labels``, ``description`` or ``attributes``."""
    if unknown := set(changes) - set(_EDITABLE):
        raise ValidationError(
            f"cannot change {', '.join(sorted(unknown))} of an annotation; "
            f"changeable: {', '.join(_EDITABLE)}"
        )
    check_call(add, (), changes)  # each change as add() would take it
    annotation = _load_for_change(session, annotation_id, expected_version, by)
    before = values(session, annotation, [k for k in changes if k != "attributes"])
    with session.no_autoflush:  # one change, one new version (the lookups below would flush)
        if "start_ns" in changes or "end_ns" in changes:
            annotation.kind, annotation.start_ns, annotation.end_ns = _span(
                session,
                annotation.task_id,
                annotation.dataset_id,
                changes.get("start_ns", annotation.start_ns),
                changes.get("end_ns", annotation.end_ns),
            )
        if "skill" in changes:
            _set_skill(session, annotation, changes["skill"])
        if "labels" in changes:
            annotation.labels = dictionaries.check_labels(
                session, changes["labels"], task=annotation.task_id
            )
        if "description" in changes:
            annotation.description = _text.text(changes["description"], "description")
        if "attributes" in changes:
            annotation.attributes = dict(changes["attributes"] or {})
    session.flush()
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action="update",
        to_state=f"v{annotation.version}",
        fields=sorted(changes),
        before=before,
    )
    return annotation


def mark_invalid(
    session: Session,
    task: int,
    dataset: int,
    reason: str,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    by: User,
) -> Annotation:
    """Mark a whole episode (or a span of it) invalid, with a required reason."""
    _text.text(reason, "invalid reason", required=True)
    annotation = add(session, task, dataset, start_ns=start_ns, end_ns=end_ns, by=by)
    annotation.valid, annotation.invalid_reason = False, reason
    session.flush()
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action="mark_invalid",
        note=reason,
    )
    return annotation


def set_valid(
    session: Session,
    annotation_id: int,
    valid: bool,
    *,
    reason: str | None = None,
    expected_version: int,
    by: User,
) -> Annotation:
    """Mark an existing annotation invalid (a reason is required) or valid again."""
    if not valid:
        _text.text(reason, "invalid reason", required=True)
    annotation = _load_for_change(session, annotation_id, expected_version, by)
    before = "valid" if annotation.valid else "invalid"
    before_reason = annotation.invalid_reason
    annotation.valid, annotation.invalid_reason = bool(valid), (None if valid else reason)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action="set_valid",
        from_state=before,
        to_state="valid" if valid else "invalid",
        note=reason or "",
        before={"valid": before == "valid", "reason": before_reason},
    )
    return annotation


def reannotate(
    session: Session, annotation_id: int, *, expected_version: int, by: User
) -> Annotation | None:
    """Take an invalid mark back so the span is annotated again.

    An invalid annotation that says something (a skill, labels or a description) becomes valid
    again for its author to fix; a bare invalid mark is deleted, which returns its dataset to
    "to do". Returns the annotation kept, or None when the mark was deleted.
    """
    annotation = _load_for_change(session, annotation_id, expected_version, by)
    if annotation.valid:
        raise ValidationError(f"annotation #{annotation.id} is not marked invalid")
    if annotation.skill_id is None and not annotation.labels and not annotation.description:
        delete(session, annotation_id, expected_version=expected_version, by=by)
        return None
    return set_valid(session, annotation_id, True, expected_version=expected_version, by=by)


def delete(session: Session, annotation_id: int, *, expected_version: int, by: User) -> None:
    """Delete an annotation; the event log keeps a copy of what it said."""
    annotation = _load_for_change(session, annotation_id, expected_version, by)
    events.record(
        session,
        by=by,
        object_type="annotation",
        object_id=annotation.id,
        action="delete",
        task=annotation.task_id,
        dataset=annotation.dataset_id,
        start_ns=annotation.start_ns,
        end_ns=annotation.end_ns,
        skill_id=annotation.skill_id,
        labels=annotation.labels,
        description=annotation.description,
    )
    session.delete(annotation)
    session.flush()


def copy_segments(
    session: Session,
    task: int,
    source: int,
    *,
    targets: Sequence[int] | None = None,
    by: User,
) -> dict[int, list[Annotation]]:
    """Template mode: copy the valid segments of dataset ``source`` onto other datasets of the
    task, each scaled to the target's duration, for the annotator to review and adjust.

    ``targets`` defaults to the task's other datasets that have no annotation yet. Each copy
    keeps skill, labels and description and records ``{"template": source}`` in its attributes.
    Returns the new annotations per target dataset.
    """
    found = tasks.get(session, task)
    check_annotation_edit(found, by)
    mine = by.id if Duty.ANNOTATOR in duties(found, by) else None  # their own, if independent
    template = [
        a
        for a in list_annotations(session, found.id, dataset=source, valid=True, author=mine)
        if a.kind == AnnotationKind.SEGMENT
    ]
    if not template:
        raise ValidationError(f"dataset #{source} has no valid segments to copy in task #{task}")
    durations = dict(
        session.execute(
            select(Dataset.id, Dataset.duration_ns)
            .join(TaskDataset, TaskDataset.dataset_id == Dataset.id)
            .where(TaskDataset.task_id == found.id)
        ).all()
    )
    if targets is None:
        done = set(
            session.scalars(select(Annotation.dataset_id).where(Annotation.task_id == found.id))
        )
        targets = [d for d in sorted(durations) if d != source and d not in done]
    elif unknown := [d for d in targets if d not in durations]:
        raise ValidationError(f"dataset(s) {unknown} are not part of task #{task}")
    scale_from = durations[source] or 1
    made: dict[int, list[Annotation]] = {}
    for target in targets:
        if target == source:
            continue
        ratio = durations[target] / scale_from
        made[target] = [
            add(
                session,
                found.id,
                target,
                start_ns=min(round((a.start_ns or 0) * ratio), durations[target]),
                end_ns=min(round((a.end_ns or 0) * ratio), durations[target]),
                skill=a.skill_id,
                labels=a.labels,
                description=a.description,
                attributes={**a.attributes, "template": source},
                by=by,
            )
            for a in template
        ]
    return made
