"""Notifications, derived from the audit log (never a second record of what happened): what
concerns me among the events others caused — a task assigned to me, a task of mine sent back
(with the reviewer's comment and its place on the episode), passed, or submitted for my review,
a verdict on an annotation of mine, a consensus picked from my work — newest first, with what I
have read kept among my own settings.

Example::

    ws.notifications.unread_count()
    for n in ws.notifications.list_notifications(unread=True):
        print(n.at, n.text)
    ws.notifications.mark_read()                 # all of them
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..access.events import ANNOTATION_ACTIONS, JOB_ACTIONS, TASK_ACTIONS
from ..access.workflow import Duty
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import Annotation, AnnotationVerdict, Event, Review, Task, TaskMember, User

__all__ = [
    "Notification",
    "list_notifications",
    "mark_read",
    "preferences",
    "set_preferences",
    "unread_count",
]

PREFERENCE = "notifications"
"""Where what I have read is kept (:func:`annotation_kit.access.users.set_preference`)."""
KEPT_READ = 500
"""How many ids read one by one are kept above the mark of everything read."""
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
SETTINGS = "notify"
"""Where my notification preferences are kept
(:func:`annotation_kit.access.users.set_preference`)."""


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
        }


def _read_state(user: User) -> tuple[int, set[int]]:
    kept = (user.preferences or {}).get(PREFERENCE) or {}
    return int(kept.get("upto", 0)), {int(i) for i in kept.get("read", [])}


def _mine(session: Session, me: User, limit: int) -> list[Notification]:
    """The newest ``limit`` events that concern ``me`` (not those ``me`` caused, but for the
    ends of my background jobs), of the kinds ``me`` has not muted."""
    muted = set(preferences(session, by=me)["muted"])
    my_tasks = (
        select(TaskMember.task_id)
        .where(TaskMember.user_id == me.id)
        .union(
            select(Task.id).where(Task.creator_id == me.id)  # the manager hears of issues raised
        )
    )
    my_work = select(Annotation.id).where(Annotation.author_id == me.id)
    others = or_(Event.actor_id.is_(None), Event.actor_id != me.id)
    rows = session.scalars(
        select(Event)
        .where(
            or_(
                and_(
                    others,
                    Event.object_type == "task",
                    Event.action.in_(TASK_ACTIONS),
                    Event.object_id.in_(my_tasks),
                ),
                and_(
                    others,
                    Event.object_type == "annotation",
                    Event.action.in_(ANNOTATION_ACTIONS),
                    Event.object_id.in_(my_work),
                ),
                # my background jobs ended (the worker records it as my act)
                and_(
                    Event.object_type == "job",
                    Event.action.in_(JOB_ACTIONS),
                    Event.actor_id == me.id,
                ),
                # data checks ran on datasets: some may be my uploads
                and_(Event.object_type == "qc", Event.action == "run"),
            ),
        )
        .order_by(Event.id.desc())
        .limit(limit * 3)  # some events concern other people: read a margin
    ).all()
    uploads = _uploads(session, me, rows)
    duties: dict[int, set[str]] = {}
    for task_id, duty in session.execute(
        select(TaskMember.task_id, TaskMember.duty).where(TaskMember.user_id == me.id)
    ):
        duties.setdefault(task_id, set()).add(str(duty))
    names = dict(session.execute(select(Task.id, Task.name)).all())
    out: list[Notification] = []
    assigned: set[int | None] = set()
    for event in rows:
        if event.object_type == "qc":
            found = _checked(event, uploads)
        else:
            found = _describe(session, event, me, duties.get(event.object_id, set()), names)
        if found is not None and found.kind in muted:
            continue
        if found is not None and found.kind == "assigned":
            if found.task in assigned:  # assigned again: the newest says it
                continue
            assigned.add(found.task)
        if found is not None:
            out.append(found)
        if len(out) == limit:
            break
    return out


def _uploads(session: Session, me: User, rows: Sequence[Event]) -> set[int]:
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


def _checked(event: Event, uploads: set[int]) -> Notification | None:
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


def _describe(
    session: Session, event: Event, me: User, duties: set[str], names: dict[int, str]
) -> Notification | None:
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


@readonly
def list_notifications(
    session: Session, *, unread: bool = False, limit: int = 50, by: User
) -> list[Notification]:
    """My notifications, newest first (``unread``: only those not read yet)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise ValidationError(f"limit must be a whole number from 1 to 500, not {limit!r}")
    me = session.get(User, by.id)
    assert me is not None
    upto, read = _read_state(me)
    found = [
        Notification(**{**n.__dict__, "read": n.id <= upto or n.id in read})
        for n in _mine(session, me, limit if not unread else 500)
    ]
    return [n for n in found if not (unread and n.read)][:limit]


@readonly
def unread_count(session: Session, *, by: User) -> int:
    """How many of my (newest 500) notifications I have not read."""
    return len(list_notifications(session, unread=True, limit=500, by=by))


def mark_read(session: Session, ids: list[int] | None = None, *, by: User) -> int:
    """Mark my notifications ``ids`` read, or every one so far (no ``ids``); returns how many
    unread are left."""
    from ..access.users import set_preference

    me = session.get(User, by.id, with_for_update=True)
    assert me is not None
    upto, read = _read_state(me)
    if ids is None:
        newest = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
        upto, read = max(upto, int(newest)), set()
    else:
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValidationError("ids must be notification (event) ids")
        read |= {i for i in ids if i > upto}
    kept = sorted(read)[-KEPT_READ:]
    set_preference(session, PREFERENCE, {"upto": upto, "read": kept}, by=me)
    return unread_count(session, by=me)


@readonly
def preferences(session: Session, *, by: User) -> dict[str, Any]:
    """My notification preferences: ``muted`` (kinds I am not told of) and ``email`` (whether
    what I am told of is also mailed to me, when the workspace has an SMTP server)."""
    me = session.get(User, by.id)
    assert me is not None
    kept = (me.preferences or {}).get(SETTINGS) or {}
    return {"muted": sorted(kept.get("muted", [])), "email": bool(kept.get("email", False))}


def set_preferences(
    session: Session,
    *,
    muted: Sequence[str] | None = None,
    email: bool | None = None,
    by: User,
) -> dict[str, Any]:
    """Change my notification preferences (each person their own); returns them."""
    from ..access.users import set_preference

    now = preferences(session, by=by)
    if muted is not None:
        unknown = muted if isinstance(muted, str) else sorted(set(muted) - set(KINDS))
        if unknown:
            raise ValidationError(f"cannot mute {unknown!r}: kinds are {', '.join(KINDS)}")
        now["muted"] = sorted(set(muted))
    if email is not None:
        if not isinstance(email, bool):
            raise ValidationError(f"email must be True or False, not {email!r}")
        if email and not by.email:
            raise ValidationError(f"{by.name} has no e-mail address to send notifications to")
        if email and not now["email"]:  # mail what comes from now on, not the past
            newest = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
            set_preference(session, "mailed", int(newest), by=by)
        now["email"] = email
    set_preference(session, SETTINGS, now, by=by)
    return now
