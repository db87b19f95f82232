"""What changed since the previous review round: annotations new, edited or deleted since the
verdicts of the last round."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.database import readonly
from ..store.models import (
    Event,
    Skill,
)
from . import annotations, tasks


@dataclass(frozen=True)
class Change:
    """One annotation that is new, changed or deleted since the task was last sent back.

    ``before`` holds the values at the end of the previous round for the fields that changed
    (empty for a new annotation); ``after`` the current values (empty once deleted)."""

    annotation: int
    dataset: int
    kind: str  # "new", "changed" or "deleted"
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@readonly
def changes_since_last_round(session: Session, task: int) -> list[Change]:
    """What the annotators changed since the previous review round sent the task back (empty in
    the first round), read from the event log."""
    found = tasks.get(session, task)
    cutoff = session.scalar(
        select(Event.id)
        .where(Event.object_type == "task", Event.object_id == found.id, Event.action == "reject")
        .order_by(Event.id.desc())
        .limit(1)
    )
    if cutoff is None:
        return []
    current = {a.id: a for a in annotations.list_annotations(session, found.id)}
    rows = session.scalars(
        select(Event)
        .where(Event.object_type == "annotation", Event.id > cutoff)
        .where(Event.object_id.in_(current) | (Event.action == "delete"))
        .order_by(Event.id)
    ).all()
    created: set[int] = set()
    before: dict[int, dict[str, Any]] = {}
    touched: set[int] = set()
    deleted: dict[int, Event] = {}
    for row in rows:
        if row.action == "delete":
            if row.data.get("task") == found.id:
                deleted[row.object_id] = row
            continue
        if row.action == "create":
            created.add(row.object_id)
        touched.add(row.object_id)
        for key, value in (row.data.get("before") or {}).items():
            before.setdefault(row.object_id, {}).setdefault(key, value)
    out: list[Change] = []
    for annotation_id in sorted(touched | set(deleted)):
        if annotation_id in created:
            if annotation_id in current:
                a = current[annotation_id]
                out.append(
                    Change(annotation_id, a.dataset_id, "new", {}, annotations.values(session, a))
                )
            continue  # made and deleted again within the round: nothing to review
        if annotation_id in deleted:
            d = deleted[annotation_id].data
            was = {k: d.get(k) for k in ("start_ns", "end_ns", "labels", "description")}
            skill = session.get(Skill, d["skill_id"]) if d.get("skill_id") else None
            was["skill"] = skill.name if skill else None
            out.append(Change(annotation_id, d.get("dataset", 0), "deleted", was, {}))
            continue
        a = current[annotation_id]
        now = annotations.values(session, a)
        was = {k: v for k, v in before.get(annotation_id, {}).items() if now.get(k) != v}
        if before.get(annotation_id) and not was:
            continue  # changed and changed back
        out.append(Change(annotation_id, a.dataset_id, "changed", was, now))
    return out
