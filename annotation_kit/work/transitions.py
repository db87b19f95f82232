"""The workflow actions on a task (start, submit, approve, reject, submit data): who may is
decided by :mod:`annotation_kit.access.workflow`; this module applies them, with their reviews,
checks and events. Its services are reached as ``ws.tasks.<action>``
(:mod:`annotation_kit.work.tasks` re-exports them)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import _text, events
from ..access.workflow import Action, Status, check
from ..data.datasets import check_range
from ..errors import InvalidTransition, ValidationError
from ..store.database import readonly
from ..store.models import (
    Annotation,
    AnnotationVerdict,
    Dataset,
    Decision,
    Review,
    Task,
    TaskDataset,
    User,
    utcnow,
)
from ..store.task_refs import TaskRef, check_version, get, resolve
from . import consensus, rules

__all__ = [
    "allowed_actions",
    "approve",
    "permissions",
    "reject",
    "start",
    "submit",
    "submit_data",
    "transition",
]

_STATUS_TIMES = {
    Status.IN_PROGRESS: "started_at",
    Status.PENDING_REVIEW: "submitted_at",
    Status.REVIEW_PASSED: "passed_at",
    Status.DATA_SUBMITTED: "data_submitted_at",
}


def _require_no_rejected(session: Session, task: Task) -> None:
    rejected = session.scalars(
        select(AnnotationVerdict.annotation_id)
        .where(
            AnnotationVerdict.task_id == task.id,
            AnnotationVerdict.round == task.review_round,
            AnnotationVerdict.decision == Decision.REJECT,
        )
        .order_by(AnnotationVerdict.annotation_id)
    ).all()
    if rejected:
        shown = ", ".join(f"#{i}" for i in rejected[:10]) + (" …" if len(rejected) > 10 else "")
        raise ValidationError(
            f"cannot pass task #{task.id}: {len(rejected)} annotation(s) were rejected in this "
            f"review round ({shown}); fail the task so they are fixed, or pass them first"
        )


def transition(
    session: Session,
    task: TaskRef,
    action: Action | str,
    *,
    comment: str | None = None,
    dataset: int | None = None,
    range_ns: tuple[int, int] | None = None,
    expected_version: int | None = None,
    by: User,
) -> Task:
    """Take one workflow action on a task; the library decides whether ``by`` may.

    ``expected_version`` (what a form or widget showed) refuses the action when the task
    changed meanwhile: an approval is for the submission the reviewer saw.

    Approve and reject also record a review for the current round (reject needs a comment,
    which may be anchored to ``dataset`` and a ``range_ns`` on its clock) and a rejection
    returns the task to In Progress and opens the next review round.
    """
    found = resolve(session, [task])[0]
    check_version(found, expected_version)
    if comment is not None:
        _text.text(comment, "comment")
    step = check(found, by, _action(action), comment=comment)
    if step.action == Action.SUBMIT:
        _require_all_annotated(session, found, by)
        _require_independent_work(session, found, by)
        _require_rules_met(session, found, by)
    if step.action == Action.APPROVE:
        _require_no_rejected(session, found)
        _require_consensus(session, found, by)
    if step.action in (Action.APPROVE, Action.REJECT):
        start_ns, end_ns = _check_anchor(session, found, dataset, range_ns)
        session.add(
            Review(
                task_id=found.id,
                round=found.review_round,
                reviewer_id=by.id,
                decision="pass" if step.action == Action.APPROVE else "reject",
                comment=comment or "",
                dataset_id=dataset,
                range_start_ns=start_ns,
                range_end_ns=end_ns,
            )
        )
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=found.id,
        action=step.action.value,
        from_state=found.status.value,
        to_state=step.target.value,
        note=comment or "",
        round=found.review_round,
    )
    found.status = step.target
    if step.action == Action.REJECT:
        found.review_round += 1
    if attr := _STATUS_TIMES.get(step.target):
        setattr(found, attr, utcnow())
    session.flush()
    return found


def _check_anchor(
    session: Session, task: Task, dataset: int | None, range_ns: tuple[int, int] | None
) -> tuple[int | None, int | None]:
    """Validate where a review comment points: a dataset of the task and a range on its clock."""
    if dataset is None:
        if range_ns is not None:
            raise ValidationError("a comment's time range needs the dataset it refers to")
        return None, None
    if session.get(TaskDataset, (task.id, dataset)) is None:
        raise ValidationError(f"dataset #{dataset} is not part of task #{task.id}")
    if range_ns is None:
        return None, None
    duration = session.scalar(select(Dataset.duration_ns).where(Dataset.id == dataset)) or 0
    return check_range(range_ns[0], range_ns[1], duration)


def _require_all_annotated(session: Session, task: Task, by: User) -> None:
    missing = session.execute(
        select(Dataset.id, Dataset.name)
        .join(TaskDataset, TaskDataset.dataset_id == Dataset.id)
        .where(TaskDataset.task_id == task.id)
        .where(
            ~select(Annotation.id)
            .where(Annotation.task_id == task.id, Annotation.dataset_id == Dataset.id)
            .exists()
        )
        .order_by(Dataset.id)
    ).all()
    total = session.scalar(select(func.count()).where(TaskDataset.task_id == task.id))
    if not total:
        raise InvalidTransition(
            f"{by.name} cannot submit task '{task.name}' (#{task.id}): it has no datasets"
        )
    if missing:
        raise InvalidTransition(
            f"{by.name} cannot submit task '{task.name}' (#{task.id}) for review: {len(missing)} "
            f"of its {total} datasets have neither an annotation nor an invalid mark: "
            + _first_ten([f"#{i} '{n}'" for i, n in missing])
        )


def _require_independent_work(session: Session, task: Task, by: User) -> None:
    """Every annotator has annotated (or marked invalid) each independent dataset."""
    ids = consensus.independent(session, task.id)
    if not ids:
        return
    annotators = {u.id: u.name for u in task.annotators}
    done = set(
        session.execute(
            select(Annotation.dataset_id, Annotation.author_id)
            .where(Annotation.task_id == task.id, Annotation.dataset_id.in_(ids))
            .where(Annotation.consensus.is_(False))
            .distinct()
        ).all()
    )
    missing = [
        f"#{d} by {name}"
        for d in ids
        for user_id, name in sorted(annotators.items(), key=lambda p: p[1])
        if (d, user_id) not in done
    ]
    if missing:
        raise InvalidTransition(
            f"{by.name} cannot submit task '{task.name}' (#{task.id}) for review: each of its "
            f"annotators annotates the independent datasets on their own, and these are not "
            f"done yet: " + _first_ten(missing)
        )


def _first_ten(items: list[str]) -> str:
    """``items`` joined, the first ten of them, saying how many more there are."""
    more = f" and {len(items) - 10} more" if len(items) > 10 else ""
    return ", ".join(items[:10]) + more


def _require_consensus(session: Session, task: Task, by: User) -> None:
    if open_ := consensus.without_consensus(session, task.id):
        shown = ", ".join(f"#{d}" for d in open_[:10])
        raise InvalidTransition(
            f"{by.name} cannot pass task '{task.name}' (#{task.id}): pick the consensus of its "
            f"independently annotated dataset(s) {shown} first (what exports carry)"
        )


def _require_rules_met(session: Session, task: Task, by: User) -> None:
    errors = [f for f in rules.evaluate(session, task.id) if f.severity == "error"]
    if errors:
        shown = "; ".join(f"episode #{f.dataset_id}: {f}" for f in errors[:5])
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise InvalidTransition(
            f"{by.name} cannot submit task '{task.name}' (#{task.id}) for review: "
            f"{len(errors)} place(s) break the project's annotation rules: {shown}{more}"
        )


@readonly
def submit_problems(session: Session, task: TaskRef, *, by: User) -> list[str]:
    """Why a submit of ``task`` would be refused now, beyond who may and when (episodes not
    done, independent work missing, rule errors): empty when nothing stands in the way."""
    found = resolve(session, [task])[0]
    problems = []
    for check_one in (_require_all_annotated, _require_independent_work, _require_rules_met):
        try:
            check_one(session, found, by)
        except InvalidTransition as exc:
            problems.append(str(exc))
    return problems


def start(session: Session, task: TaskRef, *, by: User) -> Task:
    """Pending → In Progress (assigned annotators, managers, admins)."""
    return transition(session, task, Action.START, by=by)


def submit(session: Session, task: TaskRef, *, by: User) -> Task:
    """In Progress → Pending Review; refused while a dataset has no annotation nor invalid mark."""
    return transition(session, task, Action.SUBMIT, by=by)


def approve(
    session: Session,
    task: TaskRef,
    *,
    comment: str = "",
    expected_version: int | None = None,
    by: User,
) -> Task:
    """Pending Review → Review Passed (assigned reviewers, managers, admins)."""
    return transition(
        session, task, Action.APPROVE, comment=comment, expected_version=expected_version, by=by
    )


def reject(
    session: Session,
    task: TaskRef,
    *,
    comment: str,
    dataset: int | None = None,
    range_ns: tuple[int, int] | None = None,
    expected_version: int | None = None,
    by: User,
) -> Task:
    """Pending Review → In Progress with a required comment; the review round goes up."""
    return transition(
        session,
        task,
        Action.REJECT,
        comment=comment,
        dataset=dataset,
        range_ns=range_ns,
        expected_version=expected_version,
        by=by,
    )


def submit_data(session: Session, task: TaskRef, *, by: User) -> Task:
    """Review Passed → Data Submitted (managers and admins)."""
    return transition(session, task, Action.SUBMIT_DATA, by=by)


@readonly
def allowed_actions(session: Session, task: TaskRef, *, by: User) -> list[str]:
    """The workflow actions ``by`` may take on the task now (what a UI should offer)."""
    from ..access.workflow import allowed_actions as allowed

    return [a.value for a in allowed(get(session, task), by)]


@readonly
def permissions(session: Session, task: TaskRef, *, by: User) -> list[str]:
    """All ``by`` may do to the task now: workflow actions, then ``annotate``, ``datasets``,
    ``edit``, ``delete`` (see :func:`annotation_kit.access.workflow.permissions`)."""
    from ..access.workflow import permissions as allowed

    return allowed(get(session, task), by)


def _action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise ValidationError(
            f"unknown action {action!r}; actions are {', '.join(a.value for a in Action)}"
        ) from None
