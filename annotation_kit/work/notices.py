"""What a notification is and what each says: an event of the audit log told to the person it
concerns (:mod:`annotation_kit.work.notifications` finds the events and keeps what was read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.workflow import Duty
from ..store.models import Annotation, AnnotationVerdict, Event, Review, User

KINDS = (
    "assigned",
    "submitted",
    "approved",
    "rejected",
    "annotation_passed",
    "annotation_rejected",
    "consensus",
    "feedback",
    "feedback_reply",
    "feedback_resolved",
    "job_completed",
    "job_failed",
    "qc_failed",
)
"""Every kind of notification (what :func:`set_preferences` can mute)."""
VERDICTS = ("annotation_passed", "annotation_rejected")
"""The kinds one reviewer's verdicts in one round of one task are grouped under."""


@dataclass(frozen=True)
class Notification:
    """One event that concerns me, as I am told about it."""

    id: int
    """The event's id in the audit log."""
    at: datetime
    kind: str
    """One of :data:`KINDS`: ``assigned``, ``submitted``, ``approved``, ``rejected``,
    ``annotation_passed``, ``annotation_rejected``, ``consensus``, ``feedback``,
    ``feedback_reply``, ``feedback_resolved``, ``job_completed``, ``job_failed`` or
    ``qc_failed``."""
    text: str
    actor: str
    task: int | None = None
    dataset: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    read: bool = False
    count: int = 1
    """How many events it tells of: a reviewer's verdicts on my annotations of one task in one
    round come as one notification (read when its newest event is)."""

    def as_json(self) -> dict[str, Any]:
        """The notification as a widget shows it."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "text": self.text,
            "actor": self.actor,
            "task": self.task,
            "dataset": self.dataset,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "read": self.read,
            "count": self.count,
        }


def told_once(told: list[Notification], names: dict[int, str]) -> Notification:
    """Several verdicts of one reviewer on my annotations of one task and round, as one
    notification ("rita passed 4 and sent back 1 of your annotations in 'Pick cubes'"), at
    the newest of them and anchored at the newest rejection's place."""
    if len(told) == 1:
        return told[0]
    newest = told[0]
    rejected = [n for n in told if n.kind == "annotation_rejected"]
    passed = len(told) - len(rejected)
    parts = ([f"passed {passed}"] if passed else []) + (
        [f"sent back {len(rejected)}"] if rejected else []
    )
    title = names.get(newest.task or 0, newest.task)
    anchor = rejected[0] if rejected else newest
    return Notification(
        id=newest.id,
        at=newest.at,
        kind="annotation_rejected" if rejected else "annotation_passed",
        text=f"{newest.actor} {' and '.join(parts)} of your annotations in '{title}'",
        actor=newest.actor,
        task=newest.task,
        dataset=anchor.dataset,
        start_ns=anchor.start_ns,
        end_ns=anchor.end_ns,
        count=len(told),
    )


def uploads(session: Session, me: User, rows: Sequence[Event]) -> set[int]:
    """Which of the datasets that failed the data checks in ``rows`` ``me`` uploaded (the
    actor of their registration in the audit log)."""
    failed = {i for e in rows if e.object_type == "qc" for i in (e.data or {}).get("failed", [])}
    if not failed:
        return set()
    return set(
        session.scalars(
            select(Event.object_id).where(
                Event.object_type == "dataset",
                Event.action == "register",
                Event.actor_id == me.id,
                Event.object_id.in_(sorted(failed)),
            )
        )
    )


def checked(event: Event, uploads: set[int]) -> Notification | None:
    """A data-check run told to whoever uploaded datasets that failed it (``uploads``)."""
    mine = [i for i in (event.data or {}).get("failed", []) if i in uploads]
    if not mine:
        return None
    who = event.actor.name if event.actor else "the system"
    shown = ", ".join(f"#{i}" for i in mine[:10]) + (" …" if len(mine) > 10 else "")
    return Notification(
        id=event.id,
        at=event.at,
        actor=who,
        kind="qc_failed",
        text=f"{len(mine)} of your uploads failed data checks ({shown})",
        dataset=mine[0],
    )


def _verdict(
    session: Session, event: Event, base: dict[str, Any], who: str, names: dict[int, str]
) -> Notification | None:
    """A reviewer's verdict on one of my annotations, anchored where the reviewer pointed."""
    annotation = session.get(Annotation, event.object_id)
    if annotation is None:
        return None
    verdict = session.scalar(
        select(AnnotationVerdict)
        .where(
            AnnotationVerdict.annotation_id == annotation.id,
            AnnotationVerdict.round == (event.data or {}).get("round"),
        )
        .order_by(AnnotationVerdict.id.desc())
        .limit(1)
    )
    passed = event.action == "review_pass"
    comment = f": {event.note}" if event.note else ""
    return Notification(
        **base,
        kind="annotation_passed" if passed else "annotation_rejected",
        text=f"{who} {'passed' if passed else 'rejected'} your annotation #{annotation.id} "
        f"in '{names.get(annotation.task_id, annotation.task_id)}'{comment}",
        task=annotation.task_id,
        dataset=annotation.dataset_id,
        start_ns=verdict.range_start_ns if verdict else annotation.start_ns,
        end_ns=verdict.range_end_ns if verdict else annotation.end_ns,
    )


def _sent_back(
    session: Session, event: Event, base: dict[str, Any], who: str, title: str
) -> Notification:
    """My task sent back by its reviewer, anchored at the rejection's comment."""
    task = event.object_id
    review = session.scalar(
        select(Review).where(
            Review.task_id == task,
            Review.round == (event.data or {}).get("round"),
            Review.decision == "reject",
        )
    )
    comment = f": {event.note}" if event.note else ""
    return Notification(
        **base,
        kind="rejected",
        text=f"{who} sent {title} back{comment}",
        task=task,
        dataset=review.dataset_id if review else None,
        start_ns=review.range_start_ns if review else None,
        end_ns=review.range_end_ns if review else None,
    )


def describe(
    session: Session, event: Event, me: User, duties: set[str], names: dict[int, str]
) -> Notification | None:
    """What ``event`` tells ``me`` (my ``duties`` on its task; ``names`` of the tasks), or None
    when it is nothing of mine."""
    who = event.actor.name if event.actor else "the system"
    base = {"id": event.id, "at": event.at, "actor": who}
    if event.object_type == "annotation":
        return _verdict(session, event, base, who, names)
    if event.object_type == "job":
        kind = (event.data or {}).get("kind", "")
        ended = "finished" if event.action == "complete" else "failed"
        because = f": {event.note}" if event.note else ""
        return Notification(
            **base,
            kind=f"job_{'completed' if event.action == 'complete' else 'failed'}",
            text=f"your {kind} job #{event.object_id} {ended}{because}",
        )
    task = event.object_id
    title = f"'{names.get(task, task)}'"
    annotating, reviewing = Duty.ANNOTATOR.value in duties, Duty.REVIEWER.value in duties
    if event.action.startswith("assign_"):
        duty = "annotator" if event.action == "assign_annotators" else "reviewer"
        added = set((event.to_state or "").split(",")) - set((event.from_state or "").split(","))
        if me.name not in added:
            return None
        return Notification(
            **base, kind="assigned", text=f"{who} made you {duty} of {title}", task=task
        )
    if event.action == "submit" and reviewing:
        return Notification(
            **base, kind="submitted", text=f"{who} submitted {title} for review", task=task
        )
    if event.action == "approve" and annotating:
        return Notification(**base, kind="approved", text=f"{who} passed {title}", task=task)
    if event.action == "reject" and annotating:
        return _sent_back(session, event, base, who, title)
    if event.action.startswith("feedback"):  # an issue raised, answered or resolved
        what = {
            "feedback": "raised an issue on",
            "feedback_reply": "answered an issue on",
            "feedback_resolved": "resolved an issue on",
        }[event.action]
        note = f": {event.note}" if event.note else ""
        return Notification(
            **base,
            kind=event.action,
            text=f"{who} {what} {title}{note}",
            task=task,
            dataset=(event.data or {}).get("dataset"),
        )
    if event.action == "consensus" and annotating:
        return Notification(
            **base,
            kind="consensus",
            text=f"{who} picked the consensus of an episode of {title}",
            task=task,
            dataset=(event.data or {}).get("dataset"),
        )
    return None
