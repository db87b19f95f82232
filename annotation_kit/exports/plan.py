"""What an export includes: the chosen tasks' episodes and annotations as plain records, checked
and cleaned before anything is written.

Review verdicts: an annotation's verdict is the latest one a reviewer gave it. When a reviewer
passes a task without judging each annotation, the pass covers the rest: an annotation of a
task that passed review with no verdict of its own exports as ``review_verdict="pass"`` with
the task's review round (the reviewer could have rejected it and did not).

Checks: invalid annotations are left out unless asked for; a segment reaching outside its
episode is clipped to it (dropped when nothing is left); of two overlapping segments of the same
skill on one episode, the one starting first is kept. Every change is reported in
:attr:`Plan.cleaned`, so the export says what it did not write as stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..store.models import Annotation, Dataset, Skill, Task, TaskDataset, User
from . import selection
from .selection import PASSED

NS = 1_000_000_000


@dataclass
class AnnotationRecord:
    """One annotation as every format writes it (the JSON / CSV row; see ``schema.json``)."""

    annotation: int
    version: int
    task: int
    task_name: str
    dataset: int
    dataset_name: str
    source_uri: str
    kind: str
    start_ns: int | None
    end_ns: int | None
    start_s: float | None
    end_s: float | None
    skill: str | None
    skill_version: int | None
    labels: list[str]
    description: str
    author: str
    provenance: str
    model_ref: str | None
    valid: bool
    invalid_reason: str | None
    review_verdict: str | None
    review_round: int | None
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        """The record as JSON values (labels as a list)."""
        values = {name: getattr(self, name) for name in _RECORD_FIELDS}
        values["labels"] = list(self.labels)
        return values


_RECORD_FIELDS = tuple(f.name for f in fields(AnnotationRecord))


@dataclass
class EpisodePlan:
    """One episode to write: its stored index and the annotations that go with it."""

    dataset: int
    name: str
    source_uri: str
    format: str
    duration_ns: int
    start_time_ns: int
    streams: list[dict[str, Any]]
    cameras: list[dict[str, Any]]
    meta: dict[str, Any]
    robot: str = ""
    tasks: list[str] = field(default_factory=list)
    """Names of the exported tasks this episode belongs to."""
    annotations: list[AnnotationRecord] = field(default_factory=list)

    def open(self) -> Any:
        """The episode's data (an :class:`~annotation_kit.data.episodes.Episode`; close it
        after)."""
        from types import SimpleNamespace

        from ..data.episodes import Episode

        return Episode(
            cast(Any, SimpleNamespace)(  # what Episode reads of a Dataset, without the ORM's
                id=self.dataset,
                name=self.name,
                source_uri=self.source_uri,
                format=self.format,
                duration_ns=self.duration_ns,
                start_time_ns=self.start_time_ns,
                streams=self.streams,
                cameras=self.cameras,
                meta=self.meta,
            )
        )

    @property
    def source_task(self) -> str | None:
        """The task the source itself states (a LeRobot episode's first task, an HDF5
        ``task`` attribute), if any."""
        tasks = self.meta.get("tasks") or []
        if tasks and isinstance(tasks, list) and str(tasks[0]).strip():
            return str(tasks[0])
        task = (self.meta.get("attrs") or {}).get("task")
        return str(task) if isinstance(task, str) and task.strip() else None

    @property
    def segments(self) -> list[AnnotationRecord]:
        """The episode's time segments (not episode-level verdicts)."""
        return [a for a in self.annotations if a.kind == "segment"]


class Unfit(ValidationError):
    """One episode of the plan does not fit the export's format (no signal to map, other
    cameras or another rate than the rest): refused, or left out with ``skip_unfit=True``."""

    def __init__(self, episode: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"episode {episode!r} {reason}")
        self.episode, self.reason = episode, reason


@dataclass
class Plan:
    """Everything one export writes, in episode order."""

    episodes: list[EpisodePlan]
    tasks: list[dict[str, Any]]
    skills: dict[str, int]
    """The skill library as exported: name → version."""
    options: dict[str, Any]
    cleaned: list[str] = field(default_factory=list)
    progress: Any = None
    checked: Any = None
    """What the writer's own check made of this plan before the export was recorded (a
    writer may take it up instead of checking again)."""
    """Called as ``progress(fraction, line)`` while writing (a background job's progress)."""
    _done: int = 0

    def step(self, name: str) -> None:
        """A writer finished one episode: report progress (writers call this per episode)."""
        self._done += 1
        if self.progress is not None:
            total = max(1, len(self.episodes))
            self.progress(0.05 + 0.9 * min(1.0, self._done / total), f"wrote {name}")

    @property
    def annotations(self) -> Iterable[AnnotationRecord]:
        """Every annotation record of every episode, in plan order."""
        for episode in self.episodes:
            yield from episode.annotations

    def leave_out(self, episode: str, reason: str) -> None:
        """Drop ``episode`` (and its annotations) from what is written, saying why."""
        self.episodes = [e for e in self.episodes if e.name != episode]
        self.cleaned.append(f"left out episode {episode}: {reason}")

    def counts(self) -> dict[str, int]:
        """How many tasks, episodes and annotations the plan holds."""
        records = list(self.annotations)
        return {
            "tasks": len(self.tasks),
            "episodes": len(self.episodes),
            "annotations": len(records),
            "segments": sum(1 for r in records if r.kind == "segment"),
            "cleaned": len(self.cleaned),
        }


def build(
    session: Session,
    tasks: Sequence[int],
    *,
    any_status: bool = False,
    datasets: Sequence[int] | None = None,
    changed_between: tuple[datetime | None, datetime | None] | None = None,
    include_invalid: bool = False,
    exclude: set[tuple[int, int]] | None = None,
) -> Plan:
    """Select and check what an export of ``tasks`` includes.

    ``exclude`` holds (annotation id, version) pairs already exported: those are left out (the
    "only new or changed" option).
    """
    ids = selection.task_ids(tasks)
    found = selection.checked_tasks(session, ids, any_status=any_status)
    pairs = session.execute(
        select(TaskDataset.task_id, TaskDataset.dataset_id).where(TaskDataset.task_id.in_(ids))
    ).all()
    wanted = {d for _t, d in pairs}
    if datasets is not None:
        chosen = {int(d) for d in datasets}
        if outside := sorted(chosen - wanted):
            raise ValidationError(
                f"dataset(s) {', '.join(map(str, outside))} are not part of the exported tasks"
            )
        wanted = chosen
    cleaned: list[str] = []
    rows = selection.kept(
        session,
        selection.changed(session, ids, wanted, changed_between),
        ids,
        exclude=exclude,
        include_invalid=include_invalid,
        cleaned=cleaned,
    )
    episodes = _episode_plans(session, wanted)
    for task_id, dataset_id in sorted(pairs):
        if dataset_id in episodes:
            episodes[dataset_id].tasks.append(found[task_id].name)
    users = dict(session.execute(select(User.id, User.name)).all())
    skill_names = dict(session.execute(select(Skill.id, Skill.name)).all())
    verdicts = selection.latest_verdicts(session, [a.id for a in rows])
    for a in rows:
        episode = episodes[a.dataset_id]
        record = _record(a, found[a.task_id], episode, verdicts.get(a.id), users, skill_names)
        episode.annotations.append(record)
    for episode in episodes.values():
        cleaned += _clean(episode)
    skills = {s.name: s.version for s in session.scalars(select(Skill).order_by(Skill.name))}
    return Plan(
        episodes=[episodes[i] for i in sorted(episodes)],
        tasks=[
            {
                "id": t.id,
                "name": t.name,
                "description": t.description or "",
                "status": str(t.status),
                "round": t.review_round,
            }
            for t in (found[i] for i in ids)
        ],
        skills=skills,
        options={},
        cleaned=cleaned,
    )


def _episode_plans(session: Session, wanted: set[int]) -> dict[int, EpisodePlan]:
    return {
        dataset.id: EpisodePlan(
            dataset=dataset.id,
            name=dataset.name,
            source_uri=dataset.source_uri,
            format=dataset.format,
            duration_ns=dataset.duration_ns,
            start_time_ns=dataset.start_time_ns,
            streams=list(dataset.streams),
            cameras=list(dataset.cameras),
            meta=dict(dataset.meta),
            robot=dataset.robot or "",
        )
        for dataset in session.scalars(select(Dataset).where(Dataset.id.in_(wanted)))
    }


def _record(
    a: Annotation,
    task: Task,
    episode: EpisodePlan,
    verdict: Any,
    users: dict[int, str],
    skill_names: dict[int, str],
) -> AnnotationRecord:
    """An annotation as exported, with its latest verdict (a passed task's pass covers the
    annotations nobody judged one by one)."""
    decision, round_ = (str(verdict.decision), verdict.round) if verdict else (None, None)
    if verdict is None and task.status in PASSED:
        decision, round_ = "pass", task.review_round
    return AnnotationRecord(
        annotation=a.id,
        version=a.version,
        task=a.task_id,
        task_name=task.name,
        dataset=a.dataset_id,
        dataset_name=episode.name,
        source_uri=episode.source_uri,
        kind=str(a.kind),
        start_ns=a.start_ns,
        end_ns=a.end_ns,
        start_s=None if a.start_ns is None else a.start_ns / NS,
        end_s=None if a.end_ns is None else a.end_ns / NS,
        skill=skill_names.get(a.skill_id) if a.skill_id else None,
        skill_version=a.skill_version,
        labels=list(a.labels or []),
        description=a.description or "",
        author=users.get(a.author_id, ""),
        provenance=str(a.provenance),
        model_ref=a.model_ref,
        valid=a.valid,
        invalid_reason=a.invalid_reason,
        review_verdict=decision,
        review_round=round_,
        created_at=a.created_at.isoformat(),
        updated_at=a.updated_at.isoformat(),
    )


def _clean(episode: EpisodePlan) -> list[str]:
    """Clip segments to the episode and drop same-skill overlaps; say what changed."""
    notes: list[str] = []
    kept: list[AnnotationRecord] = []
    for a in episode.annotations:
        if a.kind != "segment" or a.start_ns is None or a.end_ns is None:
            kept.append(a)
            continue
        start, end = max(0, a.start_ns), min(episode.duration_ns, a.end_ns)
        if end <= start:
            notes.append(
                f"dropped annotation #{a.annotation} on {episode.name!r}: outside the episode"
            )
            continue
        if (start, end) != (a.start_ns, a.end_ns):
            notes.append(f"clipped annotation #{a.annotation} to the episode {episode.name!r}")
            a.start_ns, a.end_ns, a.start_s, a.end_s = start, end, start / NS, end / NS
        kept.append(a)
    by_skill: dict[str | None, list[AnnotationRecord]] = defaultdict(list)
    for a in kept:
        if a.kind == "segment" and a.skill is not None:
            by_skill[a.skill].append(a)
    dropped: set[int] = set()
    for skill, segments in by_skill.items():
        segments.sort(key=lambda r: (r.start_ns or 0, r.annotation))
        last: AnnotationRecord | None = None
        for a in segments:
            if last is not None and (a.start_ns or 0) < (last.end_ns or 0):
                dropped.add(a.annotation)
                notes.append(
                    f"dropped annotation #{a.annotation} on {episode.name!r}: its {skill!r} "
                    f"segment overlaps #{last.annotation}"
                )
                continue
            last = a
    episode.annotations = [a for a in kept if a.annotation not in dropped]
    return notes
