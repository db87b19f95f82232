"""The append-only audit log: every transition, assignment, deletion and review writes one row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..store.database import readonly
from ..store.locations import scrub, scrub_all
from ..store.models import Event, ObjectType, User
from . import _text, visibility
from .workflow import is_supervisor

# record() is for the library's own modules (events.record(session, ...)), never a service:
# through ws.events anyone could write an event in someone else's name.
__all__ = ["history"]


def record(
    session: Session,
    *,
    by: User | None,
    object_type: str,
    object_id: int,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    **data: Any,
) -> Event:
    """Append one event in the caller's transaction (so it lands exactly when the change does)."""
    row = Event(
        actor_id=by.id if by else None,
        object_type=ObjectType(object_type).value,
        object_id=object_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=scrub(note),
        data=scrub_all(data),
    )
    session.add(row)
    if news_worthy(action) and session.get_bind().dialect.name == "postgresql":
        # told to every listening server process when (and only if) the change commits
        session.execute(
            text("SELECT pg_notify(:channel, :what)"),
            {"channel": CHANNEL, "what": f"{row.object_type}:{object_id}:{action}"},
        )
    return row


CHANNEL = "annotation_kit_news"
"""PostgreSQL's NOTIFY channel of events that concern people (:mod:`annotation_kit.app.news`)."""
TASK_ACTIONS = (
    "assign_annotators",
    "assign_reviewers",
    "submit",
    "approve",
    "reject",
    "consensus",
    "feedback",
    "feedback_reply",
    "feedback_resolved",
)
"""Actions on a task that concern its people (:mod:`.notifications` tells them)."""
ANNOTATION_ACTIONS = ("review_pass", "review_reject")
JOB_ACTIONS = ("complete", "fail")
NEWS = frozenset((*TASK_ACTIONS, *ANNOTATION_ACTIONS, *JOB_ACTIONS))


def news_worthy(action: str) -> bool:
    """Whether an event of ``action`` may be news to someone (a notification, a task that
    appears on their board): served pages are told at once."""
    return action in NEWS


@readonly
def history(
    session: Session,
    object_type: str | None = None,
    object_id: int | None = None,
    *,
    limit: int = 200,
    by: User | None = None,
) -> Sequence[Event]:
    """The newest events first, optionally only those of one object (e.g. ``"task", 12``).

    With ``by`` (always, from a workspace): managers and admins read the whole log; anyone
    else the history of a task they may see, or else only their own acts."""
    query = select(Event).order_by(Event.id.desc()).limit(_text.at_least(limit, "limit"))
    if by is not None and not is_supervisor(by):
        if object_type == "task" and object_id is not None:
            visibility.require_task(session, object_id, by)
        else:
            query = query.where(Event.actor_id == by.id)
    if object_type is not None:
        if object_type not in set(ObjectType):
            raise ValidationError(
                f"unknown object type {object_type!r}; the audit log names {', '.join(ObjectType)}"
            )
        query = query.where(Event.object_type == object_type)
    if object_id is not None:
        query = query.where(Event.object_id == object_id)
    return session.scalars(query).all()


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("the event log is append-only: events cannot be changed or deleted")
