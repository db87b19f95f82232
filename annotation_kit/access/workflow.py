"""The task workflow, declared once as data: statuses, actions, who may take each.

Everything that decides "may this user do this now?" lives here, so notebooks, dashboards and
jobs all get the same answer. Services call :func:`check` before changing a task and
:func:`check_annotation_edit` before changing its annotations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InvalidTransition, PermissionDenied, ValidationError
from ..store.enums import Action, Duty, Role, Status

if TYPE_CHECKING:
    from ..store.models import Task, User


@dataclass(frozen=True)
class Transition:
    """One allowed status change: the action, its source and target, and who may make it."""

    action: Action
    source: Status
    target: Status
    duty: Duty | None
    """Assigned users with this duty may take the action (supervisors always may)."""
    needs_comment: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.START, Status.PENDING, Status.IN_PROGRESS, Duty.ANNOTATOR),
    Transition(Action.SUBMIT, Status.IN_PROGRESS, Status.PENDING_REVIEW, Duty.ANNOTATOR),
    Transition(Action.APPROVE, Status.PENDING_REVIEW, Status.REVIEW_PASSED, Duty.REVIEWER),
    Transition(
        Action.REJECT, Status.PENDING_REVIEW, Status.IN_PROGRESS, Duty.REVIEWER, needs_comment=True
    ),
    Transition(Action.SUBMIT_DATA, Status.REVIEW_PASSED, Status.DATA_SUBMITTED, None),
)

SUPERVISORS = frozenset({Role.ADMIN, Role.MANAGER})
"""Roles that may take every action and edit or delete any task."""

ANNOTATOR_EDITABLE = frozenset({Status.IN_PROGRESS})
"""Statuses in which a task's assigned annotators may change its annotations."""

ACTIVE = frozenset(set(Status) - {Status.DATA_SUBMITTED})
"""Statuses of a task whose datasets count as "already in an active task"."""

_BY_SOURCE = {(t.action, t.source): t for t in TRANSITIONS}
_BY_ACTION = {t.action: t for t in TRANSITIONS}


def describe(user: User) -> str:
    """A user as messages name them (``reviewer 'rita'``)."""
    return f"{user.role} '{user.name}'"


def describe_task(task: Task) -> str:
    """A task as messages name it (``task 'name' (#3)``)."""
    return f"task '{task.name}' (#{task.id})"


def duties(task: Task, user: User) -> set[Duty]:
    """The duties ``user`` holds on ``task``."""
    return {m.duty for m in task.members if m.user_id == user.id}


def is_supervisor(user: User) -> bool:
    """Whether ``user`` is an active manager or admin."""
    return user.role in SUPERVISORS and user.active


def may(task: Task, user: User, action: Action) -> bool:
    """Whether ``user`` may take ``action`` on ``task`` now (no exception)."""
    transition = _BY_SOURCE.get((action, task.status))
    return transition is not None and _permitted(task, user, transition)


def allowed_actions(task: Task, user: User) -> list[Action]:
    """The actions ``user`` may take on ``task`` right now, in workflow order."""
    return [t.action for t in TRANSITIONS if t.source == task.status and _permitted(task, user, t)]


def permissions(task: Task, user: User) -> list[str]:
    """Everything ``user`` may do to ``task`` now: the workflow actions, then ``annotate``
    (change its annotations), and for managers and admins ``datasets``, ``edit`` and ``delete``.

    This is what a UI should offer; each service call checks again on its own.
    """
    allowed = [a.value for a in allowed_actions(task, user)]
    try:
        check_annotation_edit(task, user)
        allowed.append("annotate")
    except PermissionDenied:
        pass
    if is_supervisor(user):
        allowed += ["datasets", "edit", "delete"]
    return allowed


def _permitted(task: Task, user: User, transition: Transition) -> bool:
    if not user.active:
        return False
    if is_supervisor(user):
        return True
    held = duties(task, user)
    if transition.duty == Duty.REVIEWER and Duty.ANNOTATOR in held:
        return False  # nobody reviews their own work (managers and admins aside)
    return transition.duty is not None and transition.duty in held


def check(task: Task, user: User, action: Action, *, comment: str | None = None) -> Transition:
    """Return the transition ``action`` takes from the task's status, or raise.

    Raises :class:`InvalidTransition` when the action does not start from the current status and
    :class:`PermissionDenied` when this user may not take it (an assigned reviewer who is also
    an annotator of the task may not review it), :class:`ValidationError` when a rejection has no
    comment; the messages say what was tried,
    by whom, on which task, from which status, and what would be allowed.
    """
    action = Action(action)
    transition = _BY_SOURCE.get((action, task.status))
    now_allowed = ", ".join(allowed_actions(task, user)) or "nothing"
    if transition is None:
        needed = _BY_ACTION[action].source.label
        raise InvalidTransition(
            f"{describe(user)} cannot {action} {describe_task(task)}: it is {task.status.label}, "
            f"and {action} is only possible from {needed}. Allowed now for {user.name}: "
            f"{now_allowed}."
        )
    if not _permitted(task, user, transition):
        raise PermissionDenied(
            f"{describe(user)} may not {action} {describe_task(task)} (status "
            f"{task.status.label}): {_who_may(task, transition)}. Allowed now for {user.name}: "
            f"{now_allowed}."
        )
    if transition.needs_comment and not (comment and comment.strip()):
        raise ValidationError(
            f"{describe(user)} cannot {action} {describe_task(task)} without a comment: "
            f"say what must change."
        )
    return transition


def _who_may(task: Task, transition: Transition) -> str:
    if transition.duty is None:
        return f"{transition.action} is for managers and admins"
    names = sorted(m.user.name for m in task.members if m.duty == transition.duty)
    own = " who are not also its annotators (nobody reviews their own work)"
    return (
        f"{transition.action} is for the task's assigned {transition.duty}s "
        f"({', '.join(names) or 'none assigned'})"
        f"{own if transition.duty == Duty.REVIEWER else ''}, managers and admins"
    )


def check_annotation_edit(task: Task, user: User) -> None:
    """Raise unless ``user`` may add, change or delete annotations of ``task`` now."""
    if is_supervisor(user):
        return
    if not user.active:
        raise PermissionDenied(f"user '{user.name}' is disabled")
    if Duty.ANNOTATOR not in duties(task, user):
        raise PermissionDenied(
            f"{describe(user)} may not change annotations of {describe_task(task)}: only its "
            f"assigned annotators, managers and admins may"
        )
    if task.status not in ANNOTATOR_EDITABLE:
        hint = " (start it first)" if task.status == Status.PENDING else ""
        raise PermissionDenied(
            f"{describe(user)} may not change annotations of {describe_task(task)} while it is "
            f"{task.status.label}{hint}: annotators may change annotations while a task is "
            + " or ".join(s.label for s in sorted(ANNOTATOR_EDITABLE))
        )


def require_supervisor(user: User, what: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` is an active manager or admin."""
    if not is_supervisor(user):
        raise PermissionDenied(f"{describe(user)} may not {what}: only managers and admins may")


def require_role(user: User, roles: set[Role] | frozenset[Role], what: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` is active and holds one of ``roles``."""
    if not user.active or user.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PermissionDenied(f"{describe(user)} may not {what}: it is for {allowed}")
