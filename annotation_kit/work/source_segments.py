"""What came with the data: segments a source carried (LeRobot task strings, language,
subtasks; our own exports' records) join a new task as annotations of provenance ``import`` —
nobody's work, for the annotators to keep, fix or delete."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.models import Annotation, AnnotationKind, Dataset, Provenance, Skill, Task, User


def copy_into(session: Session, task: Task, dataset_ids: list[int], *, by: User) -> None:
    """Annotations that came with the data (LeRobot language, subtasks) join the task as
    provenance ``import`` annotations, for the annotators to keep, fix or delete."""
    library = {s.name: s for s in session.scalars(select(Skill))}
    for dataset_id, meta in session.execute(
        select(Dataset.id, Dataset.meta).where(Dataset.id.in_(dataset_ids))
    ):
        for segment in (meta or {}).get("segments", []):
            skill = library.get(segment.get("skill") or "")
            attributes = {"style": segment.get("style", "")}
            if segment.get("origin"):  # exported by annotation_kit: say who made it, and how
                attributes["origin"] = segment["origin"]
            if segment.get("skill") and skill is None:
                attributes["skill"] = segment["skill"]  # not in this library: kept as text
            session.add(
                Annotation(
                    task_id=task.id,
                    dataset_id=dataset_id,
                    author_id=by.id,
                    kind=AnnotationKind.SEGMENT,
                    start_ns=segment["start_ns"],
                    end_ns=segment["end_ns"],
                    skill_id=skill.id if skill else None,
                    skill_version=skill.version if skill else None,
                    labels=list(segment.get("labels") or []),
                    description=segment["description"],
                    attributes=attributes,
                    provenance=Provenance.IMPORT,
                )
            )
