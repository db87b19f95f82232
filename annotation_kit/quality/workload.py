"""Workload: how loaded each candidate is before a manager assigns work, and a proposal that
spreads datasets across chosen annotators by what each still has to do (the manager confirms
by creating the tasks; nothing here writes).

Example::

    ws.workload.load(["ann", "alex"])            # open tasks, episodes and hours to do, pace
    plan = ws.workload.balance(dataset_ids, ["ann", "alex"])
    for name, ids in plan.items():
        ws.tasks.create(f"batch for {name}", datasets=ids, annotators=[name])
    ws.workload.person("ann")                     # her tasks, load and recent activity
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import users
from ..access.workflow import Duty, Status, require_supervisor
from ..data.datasets import require_ids
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import Annotation, Dataset, Event, Task, TaskDataset, TaskMember, User, utcnow
from ..work import task_queries

__all__ = ["Activity", "Load", "Person", "balance", "load", "person"]

OPEN = (Status.PENDING, Status.IN_PROGRESS)
"""Statuses in which a task still asks work of its annotators."""
PACE_DAYS = 7
"""The window of the recent pace (episodes annotated per day)."""
SECOND = 1_000_000_000


@dataclass(frozen=True)
class Load:
    """One person's work still to do, and their recent pace."""

    name: str
    open_tasks: int
    episodes_to_do: int
    hours_to_do: float
    pace_per_day: float
    """Episodes they annotated per day over the last :data:`PACE_DAYS` days."""

    @property
    def days_to_do(self) -> float | None:
        """Days their open work takes at their pace (None without a pace)."""
        return self.episodes_to_do / self.pace_per_day if self.pace_per_day else None

    def as_json(self) -> dict[str, Any]:
        """What a widget shows beside the person's name."""
        days = self.days_to_do
        return {
            "open_tasks": self.open_tasks,
            "episodes_to_do": self.episodes_to_do,
            "hours_to_do": round(self.hours_to_do, 2),
            "pace_per_day": round(self.pace_per_day, 2),
            "days_to_do": None if days is None else round(days, 1),
            "summary": f"{self.open_tasks} open task(s), {self.episodes_to_do} episode(s) / "
            f"{self.hours_to_do:.1f} h to do, "
            + (
                f"{self.pace_per_day:.1f} episodes a day" if self.pace_per_day else "no recent pace"
            ),
        }


@readonly
def load(session: Session, names: Sequence[str], *, by: User) -> list[Load]:
    """Each named person's load (managers and admins): open tasks they annotate, the episodes
    of those nobody annotated yet and their hours, and their recent pace."""
    require_supervisor(by, "read people's workload")
    return _loads(session, users.get_many(session, list(names)))


def _loads(session: Session, people: Sequence[User]) -> list[Load]:
    ids = [p.id for p in people]
    open_tasks = dict(
        session.execute(
            select(TaskMember.user_id, func.count())
            .join(Task, Task.id == TaskMember.task_id)
            .where(
                TaskMember.user_id.in_(ids),
                TaskMember.duty == Duty.ANNOTATOR,
                Task.status.in_(OPEN),
            )
            .group_by(TaskMember.user_id)
        ).all()
    )
    done = select(Annotation.task_id, Annotation.dataset_id).distinct().subquery()
    to_do = {
        user_id: (int(count), int(ns or 0))
        for user_id, count, ns in session.execute(
            select(TaskMember.user_id, func.count(), func.sum(Dataset.duration_ns))
            .join(Task, Task.id == TaskMember.task_id)
            .join(TaskDataset, TaskDataset.task_id == Task.id)
            .join(Dataset, Dataset.id == TaskDataset.dataset_id)
            .outerjoin(
                done,
                (done.c.task_id == TaskDataset.task_id)
                & (done.c.dataset_id == TaskDataset.dataset_id),
            )
            .where(
                TaskMember.user_id.in_(ids),
                TaskMember.duty == Duty.ANNOTATOR,
                Task.status.in_(OPEN),
                done.c.task_id.is_(None),
            )
            .group_by(TaskMember.user_id)
        ).all()
    }
    since = utcnow() - timedelta(days=PACE_DAYS)
    firsts = (
        select(
            Annotation.author_id,
            Annotation.task_id,
            Annotation.dataset_id,
            func.min(Annotation.created_at).label("first"),
        )
        .where(Annotation.author_id.in_(ids))
        .group_by(Annotation.author_id, Annotation.task_id, Annotation.dataset_id)
        .subquery()
    )
    recent = dict(
        session.execute(
            select(firsts.c.author_id, func.count())
            .where(firsts.c.first >= since)
            .group_by(firsts.c.author_id)
        ).all()
    )
    return [
        Load(
            name=p.name,
            open_tasks=int(open_tasks.get(p.id, 0)),
            episodes_to_do=to_do.get(p.id, (0, 0))[0],
            hours_to_do=to_do.get(p.id, (0, 0))[1] / (3600 * SECOND),
            pace_per_day=int(recent.get(p.id, 0)) / PACE_DAYS,
        )
        for p in people
    ]


@readonly
def balance(
    session: Session, datasets: Sequence[int], annotators: Sequence[str], *, by: User
) -> dict[str, list[int]]:
    """A proposal (managers and admins; nothing is written): ``datasets`` spread over
    ``annotators`` so that each one's hours to do — what they have open plus what they get —
    end as even as they can, the longest episodes placed first, each to whoever has least."""
    if not annotators:
        raise ValidationError("choose at least one annotator to balance the work across")
    ids = require_ids(session, list(datasets))
    if not ids:
        raise ValidationError("choose the datasets to spread")
    loads = {
        item.name: item.hours_to_do * 3600 * SECOND for item in load(session, annotators, by=by)
    }
    for person in users.get_many(session, list(annotators)):
        if person.role not in ("annotator", "manager", "admin") or not person.active:
            raise ValidationError(f"{person.role} '{person.name}' cannot annotate")
    durations = dict(
        session.execute(select(Dataset.id, Dataset.duration_ns).where(Dataset.id.in_(ids))).all()
    )
    plan: dict[str, list[int]] = {name: [] for name in annotators}
    for dataset in sorted(ids, key=lambda d: (-durations[d], d)):
        lightest = min(plan, key=lambda n: (loads[n], len(plan[n]), list(plan).index(n)))
        plan[lightest].append(dataset)
        loads[lightest] += durations[dataset]
    return {name: sorted(chosen) for name, chosen in plan.items()}


ACTIVITY = 20
"""How many of a person's newest acts their page shows."""


@dataclass(frozen=True)
class Activity:
    """One thing a person did, from the audit log."""

    at: datetime
    action: str
    object_type: str
    object_id: int
    change: str
    note: str


@dataclass(frozen=True)
class Person:
    """A person's page: who they are, their tasks, their load and what they did lately."""

    name: str
    display_name: str
    role: str
    active: bool
    tasks: list[task_queries.TaskCard]
    """The tasks they annotate or review (that the reader may see), newest first."""
    load: Load
    activity: list[Activity]
    """Their newest acts, newest first (:data:`ACTIVITY` of them)."""


@readonly
def person(session: Session, name: str, *, by: User) -> Person:
    """``name``'s page: managers and admins read anyone's, everyone else their own."""
    if name != by.name:
        require_supervisor(by, "read another person's page")
    who = users.get(session, name)
    found = task_queries.list_tasks(session, by=by, assignee=name, page_size=200)
    [mine] = _loads(session, [who])
    acts = session.scalars(
        select(Event).where(Event.actor_id == who.id).order_by(Event.id.desc()).limit(ACTIVITY)
    ).all()
    return Person(
        name=who.name,
        display_name=who.display_name or who.name,
        role=str(who.role),
        active=who.active,
        tasks=list(found.items),
        load=mine,
        activity=[
            Activity(
                at=e.at,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                change=f"{e.from_state or ''} → {e.to_state}" if e.to_state else "",
                note=e.note,
            )
            for e in acts
        ],
    )
