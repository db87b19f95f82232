"""Notifications, derived from the audit log (never a second record of what happened): what
concerns me among the events others caused — a task assigned to me, a task of mine sent back
(with the reviewer's comment and its place on the episode), passed, or submitted for my review,
verdicts on annotations of mine (one notification per reviewer, task and round), a consensus
picked from my work — newest first, with what I have read kept among my own settings.

Example::

    ws.notifications.unread_count()
    for n in ws.notifications.list_notifications(unread=True):
        print(n.at, n.text)
    ws.notifications.mark_read()                 # all of them
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..access.events import ANNOTATION_ACTIONS, JOB_ACTIONS, TASK_ACTIONS
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import Annotation, Event, Task, TaskMember, User
from .notices import KINDS, VERDICTS, Notification, checked, describe, told_once, uploads

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
SETTINGS = "notify"
"""Where my notification preferences are kept
(:func:`annotation_kit.access.users.set_preference`)."""


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
    mine_uploaded = uploads(session, me, rows)
    duties: dict[int, set[str]] = {}
    for task_id, duty in session.execute(
        select(TaskMember.task_id, TaskMember.duty).where(TaskMember.user_id == me.id)
    ):
        duties.setdefault(task_id, set()).add(str(duty))
    names = dict(session.execute(select(Task.id, Task.name)).all())
    out: list[list[Notification]] = []  # each entry one notification, or verdicts told once
    verdicts: dict[tuple[Any, ...], list[Notification]] = {}
    assigned: set[int | None] = set()
    for event in rows:
        if event.object_type == "qc":
            found = checked(event, mine_uploaded)
        else:
            found = describe(session, event, me, duties.get(event.object_id, set()), names)
        if found is None or found.kind in muted:
            continue
        if found.kind == "assigned":
            if found.task in assigned:  # assigned again: the newest says it
                continue
            assigned.add(found.task)
        if found.kind in VERDICTS:  # one reviewer's verdicts in one round of one task: once
            key = (found.actor, found.task, (event.data or {}).get("round"))
            if key in verdicts:
                verdicts[key].append(found)
                continue
            verdicts[key] = [found]
            if len(out) < limit:
                out.append(verdicts[key])
        elif len(out) < limit:
            out.append([found])
    return [told_once(told, names) for told in out]


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
