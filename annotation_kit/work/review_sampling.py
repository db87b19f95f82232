"""The sample of datasets a review round looks at: drawn at random (a count, a percentage, at least
so many per annotator, plus the risky ones) or by the project's policy, and recorded."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import events, projects
from ..access.workflow import Action, check, require_supervisor
from ..errors import InvalidTransition, PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import (
    Annotation,
    Decision,
    Event,
    Project,
    Review,
    Setting,
    Task,
    TaskDataset,
    User,
)
from . import consensus, tasks


@dataclass(frozen=True)
class Sample:
    """The datasets one review round looks at: all of them, or ``size`` (a count or a percent)
    drawn at random with ``seed`` (so the draw can be repeated and audited)."""

    round: int
    mode: str  # "full", "count" or "percent"
    size: float | None
    seed: int | None
    datasets: list[int]
    reviewer: int


def draw_sample(
    session: Session,
    task: int,
    *,
    count: int | None = None,
    percent: float | None = None,
    seed: int | None = None,
    per_annotator: int | None = None,
    risky: bool = False,
    by: User,
) -> Sample:
    """Choose what the current review round looks at: every dataset (neither ``count`` nor
    ``percent``), ``count`` datasets, or ``percent`` % of them (rounded up, at least one), drawn at
    random. Policies add to a drawn sample: ``per_annotator=k`` makes sure each annotator of the
    task has at least ``k`` of the episodes they annotated in it; ``risky=True`` adds every
    episode the project's rules find anything on, independent episodes where annotators agree
    little (:data:`annotation_kit.work.consensus.LOW_AGREEMENT`), and those annotated by someone
    new (no task of theirs passed review yet) or often rejected (fewer than half of their
    reviewed tasks passed first time). Only those who may decide the review may, while the
    task is Pending Review. The draw and why each episode is in it are recorded in the event
    log; drawing again in the same round replaces it."""
    found = tasks.get(session, task)
    try:
        check(found, by, Action.APPROVE)
    except (InvalidTransition, PermissionDenied) as exc:
        raise type(exc)(f"{by.name} may not choose a review sample: {exc}") from None
    _check_policy(count, percent, per_annotator)
    ids = sorted(
        session.scalars(select(TaskDataset.dataset_id).where(TaskDataset.task_id == found.id))
    )
    mode, size, n = "full", None, len(ids)
    if count is not None:
        mode, size, n = "count", float(count), min(count, len(ids))
    elif percent is not None:
        mode, size, n = "percent", float(percent), max(1, math.ceil(len(ids) * percent / 100))
    why: dict[int, str] = {}
    if mode != "full":
        seed = secrets.randbits(32) if seed is None else int(seed)
        rng = random.Random(seed)
        chosen = sorted(rng.sample(ids, n))
        why = dict.fromkeys(chosen, "drawn")
        if per_annotator:
            for author, theirs in _annotated_by(session, found.id).items():
                missing = [d for d in theirs if d not in why]
                have = len(theirs) - len(missing)
                for dataset in rng.sample(missing, max(0, min(per_annotator - have, len(missing)))):
                    why[dataset] = f"at least {per_annotator} of {author}'s"
        if risky:
            for dataset, reason in _risky(session, found.id).items():
                why.setdefault(dataset, reason)
        chosen = sorted(why)
    else:
        seed, chosen = None, ids
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=found.id,
        action=SAMPLE_ACTION,
        note=f"{mode} review of {len(chosen)} of {len(ids)} dataset(s)",
        round=found.review_round,
        mode=mode,
        size=size,
        seed=seed,
        datasets=chosen,
        per_annotator=per_annotator,
        risky=risky,
        why={str(k): v for k, v in why.items() if v != "drawn"},
    )
    session.flush()
    return Sample(found.review_round, mode, size, seed, chosen, by.id)


SAMPLE_ACTION = "review_sample"


def _check_policy(count: object, percent: object, per_annotator: object) -> None:
    if count is not None and percent is not None:
        raise ValidationError("give a sample size as a count or as a percent, not both")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValidationError(f"sample count must be a whole number ≥ 1, got {count!r}")
    if percent is not None:
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise ValidationError(f"sample percent must be a number, got {percent!r}")
        if not 0 < percent <= 100:
            raise ValidationError(f"sample percent must be above 0 and at most 100, got {percent}")
    if per_annotator is not None and (
        isinstance(per_annotator, bool) or not isinstance(per_annotator, int) or per_annotator < 1
    ):
        raise ValidationError(f"per_annotator must be a whole number ≥ 1, got {per_annotator!r}")


POLICY_KEYS = ("count", "percent", "per_annotator", "risky")


def policy_of(value: dict[str, Any]) -> dict[str, Any]:
    """A review policy given as a mapping, checked, as it is kept (what is not set left out)."""
    if unknown := sorted(set(value) - set(POLICY_KEYS)):
        raise ValidationError(
            f"a review policy has no {', '.join(unknown)}; it takes {', '.join(POLICY_KEYS)}"
        )
    count, percent = value.get("count"), value.get("percent")
    per_annotator, risky = value.get("per_annotator"), value.get("risky", False)
    _check_policy(count, percent, per_annotator)
    if not isinstance(risky, bool):
        raise ValidationError(f"risky must be True or False, got {risky!r}")
    return {
        k: v
        for k, v in zip(POLICY_KEYS, (count, percent, per_annotator, risky), strict=True)
        if v not in (None, False)
    }


def set_review_policy(
    session: Session,
    project: str | int,
    *,
    count: int | None = None,
    percent: float | None = None,
    per_annotator: int | None = None,
    risky: bool = False,
    by: User,
) -> dict[str, Any]:
    """How reviewers of the project's tasks draw their sample unless they choose otherwise
    (managers and admins): the :func:`draw_sample` settings, kept on the project; neither
    ``count`` nor ``percent`` is a full review. :func:`draw_by_policy` applies it; the review
    form starts from it."""
    require_supervisor(by, "set review policies")
    policy = policy_of(
        {"count": count, "percent": percent, "per_annotator": per_annotator, "risky": risky}
    )
    found = projects.get(session, project)
    found.review_policy = policy
    events.record(
        session, by=by, object_type="project", object_id=found.id, action="review_policy", **policy
    )
    session.flush()
    return policy


@readonly
def review_policy(session: Session, task: int) -> dict[str, Any]:
    """The review policy of the task's project, else the workspace's (the ``review_policy``
    setting, :mod:`annotation_kit.library.settings`); empty: a full review."""
    found = session.scalar(
        select(Project.review_policy)
        .join(Task, Task.project_id == Project.id)
        .where(Task.id == task)
    )
    if not found:
        kept = session.get(Setting, "review_policy")
        found = kept.value if kept is not None else {}
    return dict(found or {})


def draw_by_policy(session: Session, task: int, *, seed: int | None = None, by: User) -> Sample:
    """Draw the current round's sample as the task's project says (:func:`set_review_policy`)."""
    return draw_sample(session, task, seed=seed, by=by, **review_policy(session, task))


def _annotated_by(session: Session, task: int) -> dict[str, list[int]]:
    """Each annotator of ``task`` and the episodes they annotated in it."""
    rows = session.execute(
        select(User.name, Annotation.dataset_id)
        .join(User, User.id == Annotation.author_id)
        .where(Annotation.task_id == task)
        .distinct()
        .order_by(User.name, Annotation.dataset_id)
    ).all()
    out: dict[str, list[int]] = {}
    for name, dataset in rows:
        out.setdefault(name, []).append(dataset)
    return out


def _risky(session: Session, task: int) -> dict[int, str]:
    """Episodes worth a look whatever the draw, with the reason."""
    from . import rules

    out: dict[int, str] = {}
    for finding in rules.evaluate(session, task):
        out.setdefault(finding.dataset_id, f"rule {finding.rule}")
    for dataset, tiou in consensus.low_agreement(session, task).items():
        out.setdefault(dataset, f"low agreement between annotators (mean tIoU {tiou:.2f})")
    authors = _annotated_by(session, task)
    if not authors:
        return out
    firsts = session.execute(  # each author's earlier tasks' first review: passed or not
        select(User.name, Review.task_id, Review.decision)
        .join(Annotation, Annotation.task_id == Review.task_id)
        .join(User, User.id == Annotation.author_id)
        .where(Review.round == 1, Review.task_id != task, User.name.in_(list(authors)))
        .distinct()
    ).all()
    record: dict[str, list[bool]] = {}
    for name, _task, decision in firsts:
        record.setdefault(name, []).append(decision == Decision.PASS)
    for name, theirs in authors.items():
        passed = record.get(name, [])
        reason = None
        if not any(passed):
            reason = f"{name} is new (no task passed review yet)"
        elif len(passed) >= 2 and sum(passed) < len(passed) / 2:
            reason = f"{name} passed first time in {sum(passed)} of {len(passed)} tasks"
        if reason:
            for dataset in theirs:
                out.setdefault(dataset, reason)
    return out


@readonly
def current_sample(session: Session, task: int) -> Sample | None:
    """The sample of the task's current review round, or None while none was chosen."""
    found = tasks.get(session, task)
    row = session.scalar(
        select(Event)
        .where(
            Event.object_type == "task",
            Event.object_id == found.id,
            Event.action == SAMPLE_ACTION,
        )
        .order_by(Event.id.desc())
        .limit(1)
    )
    if row is None or row.data.get("round") != found.review_round:
        return None
    present = set(
        session.scalars(select(TaskDataset.dataset_id).where(TaskDataset.task_id == found.id))
    )
    d = row.data
    return Sample(
        d["round"],
        d["mode"],
        d.get("size"),
        d.get("seed"),
        [i for i in d["datasets"] if i in present],  # a dataset removed since drops out
        row.actor_id or 0,
    )
