"""Independent annotation and consensus: a share of a task's datasets (or all) annotated by each
of its annotators on their own, the disagreement between them, and the consensus a reviewer picks.

On an *independent* dataset each annotator sees and changes only their own segments (the
annotator widget asks :func:`annotation_kit.work.annotations.list_annotations` for ``author=``),
and a submit needs something from every annotator. The reviewer compares the annotators' lanes
(:func:`disagreement`: segments matched one to one, tIoU, boundary F1, skill agreement — see
:mod:`annotation_kit.work.agreement`) and picks segments from any lane, or a whole lane
(:func:`adopt`): copies of them, marked ``consensus``, are what exports carry for that dataset.
A task with independent datasets passes review only once each of them has its consensus.

Example::

    task = ws.tasks.create("pick, twice", datasets=ids, annotators=["ann", "bob"],
                           reviewers=["rev"], overlap=0.2)      # a fifth of the datasets
    view = ws.consensus.disagreement(task.id, dataset_id)     # the reviewer's comparison
    ws.consensus.adopt(task.id, dataset_id, author="ann")     # ann's lane is the consensus
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..access import events
from ..access.workflow import ANNOTATOR_EDITABLE, Action, Duty, Status, check, duties, is_supervisor
from ..errors import InvalidTransition, PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import Annotation, AnnotationKind, Dataset, Skill, TaskDataset, User
from ..store.task_refs import get as get_task
from .agreement import Agreement, Segment, compare

__all__ = [
    "Disagreement",
    "Lane",
    "adopt",
    "disagreement",
    "independent",
    "set_independent",
    "without_consensus",
]


def set_independent(
    session: Session,
    task: int,
    *,
    datasets: Sequence[int] | None = None,
    share: float | None = None,
    seed: int | None = None,
    by: User,
) -> list[int]:
    """Choose the task's datasets each annotator annotates on their own (managers and admins,
    before the task is submitted): ``datasets`` by id, or a ``share`` between 0 and 1 of them
    drawn at random (``seed`` repeats a draw; at least one when the share is above 0). The
    others go back to being shared. Returns the independent datasets' ids."""
    if not is_supervisor(by):
        raise PermissionDenied(
            f"{by.name} ({by.role}) may not choose independent datasets: managers and admins may"
        )
    found = get_task(session, task)
    if found.status not in ANNOTATOR_EDITABLE and found.status != Status.PENDING:
        raise InvalidTransition(
            f"task '{found.name}' (#{found.id}) is {found.status.label}: datasets can be made "
            "independent before it is submitted for review"
        )
    ids = list(
        session.scalars(
            select(TaskDataset.dataset_id)
            .where(TaskDataset.task_id == found.id)
            .order_by(TaskDataset.dataset_id)
        )
    )
    if (datasets is None) == (share is None):
        raise ValidationError("give either datasets (ids) or share (0 to 1), not both")
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise ValidationError(f"share must be a number from 0 to 1, got {share!r}")
        if not 0 <= share <= 1 or math.isnan(share):
            raise ValidationError(f"share must be from 0 to 1, got {share!r}")
        count = min(len(ids), max(1, round(share * len(ids)))) if share > 0 else 0
        chosen = sorted(random.Random(seed).sample(ids, count))
    else:
        chosen = sorted({int(d) for d in datasets or ()})
        if outside := [d for d in chosen if d not in ids]:
            raise ValidationError(
                f"dataset(s) {', '.join(map(str, outside))} are not part of task #{found.id}"
            )
    session.execute(
        update(TaskDataset)
        .where(TaskDataset.task_id == found.id)
        .values(independent=TaskDataset.dataset_id.in_(chosen))
    )
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=found.id,
        action="set_independent",
        datasets=chosen,
        share=share,
        seed=seed,
    )
    return chosen


@readonly
def independent(session: Session, task: int) -> list[int]:
    """Ids of the task's datasets annotated independently."""
    return list(
        session.scalars(
            select(TaskDataset.dataset_id)
            .where(TaskDataset.task_id == task, TaskDataset.independent.is_(True))
            .order_by(TaskDataset.dataset_id)
        )
    )


@readonly
def without_consensus(session: Session, task: int) -> list[int]:
    """Independent datasets of the task that someone annotated but that have no consensus yet
    (an episode every annotator marked invalid needs none)."""
    rows = session.execute(
        select(Annotation.dataset_id, Annotation.consensus, Annotation.kind, Annotation.valid)
        .join(
            TaskDataset,
            (TaskDataset.task_id == Annotation.task_id)
            & (TaskDataset.dataset_id == Annotation.dataset_id),
        )
        .where(Annotation.task_id == task, TaskDataset.independent.is_(True))
    ).all()
    annotated: set[int] = set()
    settled: set[int] = set()
    for dataset_id, is_consensus, kind, valid in rows:
        if is_consensus:
            settled.add(dataset_id)
        elif kind == AnnotationKind.SEGMENT and valid:
            annotated.add(dataset_id)
    return sorted(annotated - settled)


@dataclass(frozen=True)
class Lane:
    """One annotator's segments on an independent dataset (or the consensus)."""

    author: str
    segments: list[Annotation]

    def as_agreement_input(self, skill_names: dict[int, str]) -> list[Segment]:
        """The segments as :class:`annotation_kit.work.agreement.Segment` (valid segments
        only)."""
        return [_segment(a, skill_names) for a in self.segments]


@dataclass(frozen=True)
class Disagreement:
    """What a reviewer compares on an independent dataset."""

    task_id: int
    dataset_id: int
    lanes: list[Lane]
    """Each annotator's valid segments, by name."""
    consensus: list[Annotation]
    """The consensus picked so far (empty until a reviewer picks)."""
    pairs: list[tuple[str, str, Agreement]]
    """Agreement between every two annotators: name, name, figures."""


def _segment(a: Annotation, skill_names: dict[int, str]) -> Segment:
    return Segment(int(a.start_ns or 0), int(a.end_ns or 0), skill_names.get(a.skill_id or 0))


def _may_settle(session: Session, task_id: int, by: User) -> None:
    task = get_task(session, task_id)
    if is_supervisor(by):
        return
    if Duty.REVIEWER not in duties(task, by):
        raise PermissionDenied(
            f"{by.name} ({by.role}) may not see or pick the consensus of task #{task_id}: its "
            "reviewers, managers and admins may"
        )


def _check_independent(session: Session, task: int, dataset: int) -> Dataset:
    row = session.scalar(
        select(TaskDataset).where(TaskDataset.task_id == task, TaskDataset.dataset_id == dataset)
    )
    if row is None:
        raise ValidationError(f"dataset #{dataset} is not part of task #{task}")
    if not row.independent:
        raise ValidationError(
            f"dataset #{dataset} of task #{task} is shared by its annotators, not annotated "
            "independently: there is no disagreement to settle"
        )
    found = session.get(Dataset, dataset)
    assert found is not None
    return found


@readonly
def disagreement(session: Session, task: int, dataset: int, *, by: User) -> Disagreement:
    """The annotators' lanes on an independent dataset, their agreement two by two, and the
    consensus so far (the task's reviewers, managers and admins)."""
    _may_settle(session, task, by)
    _check_independent(session, task, dataset)
    return _compare(session, task, dataset)


LOW_AGREEMENT = 0.5
"""Below this mean tIoU between two annotators, an independent episode is worth a review
(:func:`annotation_kit.work.reviews.draw_sample` with ``risky=True``)."""


def low_agreement(session: Session, task: int) -> dict[int, float]:
    """Independent episodes of the task where some two annotators agree less than
    :data:`LOW_AGREEMENT` (mean tIoU; no matched segment at all counts as 0), with that figure."""
    out: dict[int, float] = {}
    for dataset in independent(session, task):
        view = _compare(session, task, dataset)
        worst = [
            got.mean_tiou or 0.0 for _a, _b, got in view.pairs if got.segments_a or got.segments_b
        ]
        if worst and min(worst) < LOW_AGREEMENT:
            out[dataset] = min(worst)
    return out


def _compare(session: Session, task: int, dataset: int) -> Disagreement:
    names = dict(session.execute(select(Skill.id, Skill.name)).all())
    people = dict(session.execute(select(User.id, User.name)).all())
    rows = session.scalars(
        select(Annotation)
        .where(
            Annotation.task_id == task,
            Annotation.dataset_id == dataset,
            Annotation.kind == AnnotationKind.SEGMENT,
            Annotation.valid.is_(True),
        )
        .order_by(Annotation.start_ns, Annotation.id)
    ).all()
    by_author: dict[str, list[Annotation]] = {}
    for a in rows:
        if not a.consensus:
            by_author.setdefault(people.get(a.author_id, f"#{a.author_id}"), []).append(a)
    task_annotators = sorted(u.name for u in get_task(session, task).annotators)
    for name in task_annotators:  # an annotator with nothing here still has a (blank) lane
        by_author.setdefault(name, [])
    lanes = [Lane(name, by_author[name]) for name in sorted(by_author)]
    pairs = [
        (
            first.author,
            second.author,
            compare(first.as_agreement_input(names), second.as_agreement_input(names)),
        )
        for i, first in enumerate(lanes)
        for second in lanes[i + 1 :]
    ]
    return Disagreement(
        task_id=task,
        dataset_id=dataset,
        lanes=lanes,
        consensus=[a for a in rows if a.consensus],
        pairs=pairs,
    )


def _chosen(
    session: Session,
    task: int,
    dataset: int,
    annotations: Sequence[int] | None,
    author: str | None,
) -> list[Annotation]:
    """The segments a consensus copies, in time order: the chosen ``annotations`` or one
    ``author``'s lane, each a valid segment of an annotator here, none overlapping another."""
    candidates = session.scalars(
        select(Annotation).where(
            Annotation.task_id == task,
            Annotation.dataset_id == dataset,
            Annotation.consensus.is_(False),
            Annotation.kind == AnnotationKind.SEGMENT,
            Annotation.valid.is_(True),
        )
    ).all()
    if author is not None:
        person = session.scalar(select(User).where(User.name == author))
        if person is None:
            raise ValidationError(f"no user named {author!r}")
        chosen = [a for a in candidates if a.author_id == person.id]
        if not chosen:
            raise ValidationError(f"{author} has no valid segment on dataset #{dataset}")
    else:
        wanted = [int(i) for i in annotations or ()]
        known = {a.id: a for a in candidates}
        if unknown := [i for i in wanted if i not in known]:
            raise ValidationError(
                f"annotation(s) {', '.join(map(str, unknown))} are not valid segments of an "
                f"annotator on dataset #{dataset} of task #{task}"
            )
        chosen = [known[i] for i in dict.fromkeys(wanted)]
    chosen.sort(key=lambda a: (a.start_ns or 0, a.id))
    for first, second in itertools.pairwise(chosen):
        if (second.start_ns or 0) < (first.end_ns or 0):
            raise ValidationError(
                f"segments #{first.id} and #{second.id} overlap: the consensus takes one "
                "segment from each disagreement"
            )
    return chosen


def adopt(
    session: Session,
    task: int,
    dataset: int,
    *,
    annotations: Sequence[int] | None = None,
    author: str | None = None,
    by: User,
) -> list[Annotation]:
    """Make the consensus of an independent dataset: copies of the chosen ``annotations`` (ids,
    from any annotators' lanes: pick the better segment of each disagreement, or merge lanes)
    or of one ``author``'s whole lane, replacing any earlier consensus. The task's reviewers
    while it is Pending Review; managers and admins at any time. Chosen segments may not
    overlap each other. Each copy keeps its author and names its source in ``attributes``
    (``consensus_of``); the event log records who picked what."""
    found_task = get_task(session, task)
    _may_settle(session, task, by)
    if not is_supervisor(by):
        try:  # settling is part of deciding the task: same people, same status
            check(found_task, by, Action.APPROVE)
        except (InvalidTransition, PermissionDenied) as exc:
            raise type(exc)(f"{by.name} may not pick the consensus: {exc}") from None
    _check_independent(session, task, dataset)
    if (annotations is None) == (author is None):
        raise ValidationError("give either annotations (ids) or author (a name), not both")
    chosen = _chosen(session, task, dataset, annotations, author)
    session.execute(
        delete(Annotation).where(
            Annotation.task_id == task,
            Annotation.dataset_id == dataset,
            Annotation.consensus.is_(True),
        )
    )
    copies = [
        Annotation(
            task_id=task,
            dataset_id=dataset,
            author_id=a.author_id,
            kind=AnnotationKind.SEGMENT,
            start_ns=a.start_ns,
            end_ns=a.end_ns,
            skill_id=a.skill_id,
            skill_version=a.skill_version,
            labels=list(a.labels or []),
            description=a.description,
            attributes={**(a.attributes or {}), "consensus_of": a.id},
            provenance=a.provenance,
            model_ref=a.model_ref,
            consensus=True,
        )
        for a in chosen
    ]
    session.add_all(copies)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="task",
        object_id=task,
        action="consensus",
        dataset=dataset,
        sources=[a.id for a in chosen],
        copies=[a.id for a in copies],
    )
    return copies
