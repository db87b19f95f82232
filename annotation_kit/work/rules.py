"""Rules on annotations, per project: what a finished episode must look like.

A project keeps a list of rules (``set_rules``); each is a mapping with ``rule`` (its kind),
``severity`` (``error``, the default, or ``warning``) and its settings:

==========================  ==================================================================
``required_skills``         ``skills``: each must have at least one segment on every episode
``skill_order``             ``skills``: their first segments come in this order in time
``segment_length``          ``min_s`` and/or ``max_s``: each segment's length
``no_overlap``              segments of the same skill must not overlap
``max_gap``                 ``seconds``: the longest stretch of an episode no segment covers
``description``             ``required``, ``min_length``, ``max_length``, ``vocabulary`` (words
                            allowed): each segment's description
``labels_required``         each segment carries at least one label
``skill_requires``          ``requires``: {skill: [skills that must start before it]}; added
                            to every project's rules from the skill library's dependencies
==========================  ==================================================================

When an annotator submits a task, every episode with annotations is checked (an episode marked
invalid is not): an error refuses the submit, naming the rule, the episode and the place on its
clock; warnings are reported and recorded (:func:`evaluate`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from ..access import events, projects
from ..access.rulebook import NAMES, NUMBER, Broken, Kind, Rulebook
from ..access.workflow import require_supervisor
from ..errors import ValidationError
from ..library import skills
from ..store.database import readonly
from ..store.models import Annotation, Dataset, Project, Skill, Task, TaskDataset, User

__all__ = [
    "KINDS",
    "Finding",
    "check_episode",
    "evaluate",
    "get_rules",
    "set_rules",
    "task_rules",
    "validate",
]

SECOND = 1_000_000_000


@dataclass(frozen=True)
class Finding:
    """One place where an episode breaks a rule."""

    rule: str
    severity: str
    message: str
    dataset_id: int
    annotation_id: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The finding as a widget shows it."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "text": str(self),
            "annotation": self.annotation_id,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
        }

    def __str__(self) -> str:
        where = ""
        if self.start_ns is not None and self.end_ns is not None:
            where = f" at {self.start_ns / SECOND:.2f}–{self.end_ns / SECOND:.2f} s"
        segment = f" (segment #{self.annotation_id})" if self.annotation_id else ""
        return f"{self.rule}: {self.message}{segment}{where}"


def validate(rules: Iterable[Any]) -> list[dict[str, Any]]:
    """Checked, normalised copies of ``rules``; a clear error names the first bad one."""
    return RULEBOOK.validate(rules)


def set_rules(
    session: Session, project: str | int, rules: Iterable[dict[str, Any]], *, by: User
) -> Project:
    """Replace a project's annotation rules (managers and admins); skills they name must be in
    the skill library."""
    require_supervisor(by, "change annotation rules")
    found = projects.get(session, project)
    checked = validate(rules)
    named = {s for r in checked for s in r.get("skills", [])}
    known = set(session.scalars(select(Skill.name).where(Skill.name.in_(named))))
    if unknown := sorted(named - known):
        raise ValidationError(f"rules name skills the library does not have: {', '.join(unknown)}")
    found.annotation_rules = checked
    events.record(
        session,
        by=by,
        object_type="project",
        object_id=found.id,
        action="set_annotation_rules",
        rules=len(checked),
    )
    return found


@readonly
def get_rules(session: Session, project: str | int) -> list[dict[str, Any]]:
    """A project's annotation rules."""
    return list(projects.get(session, project).annotation_rules or [])


@dataclass(frozen=True)
class _Segment:
    id: int
    start_ns: int
    end_ns: int
    skill: str | None
    labels: list[str]
    description: str


@dataclass(frozen=True)
class _Episode:
    """What the rules look at: an episode's valid segments in time order, and its length."""

    segments: list[_Segment]
    duration_ns: int


def _at(message: str, s: _Segment | None = None, **place: int) -> Broken:
    """A broken rule at segment ``s`` (or at ``place`` on the episode's clock, or anywhere)."""
    return Broken(
        message,
        {
            "annotation_id": s.id if s else None,
            "start_ns": place.get("start_ns", s.start_ns if s else None),
            "end_ns": place.get("end_ns", s.end_ns if s else None),
        },
    )


def _required_skills(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    present = {s.skill for s in e.segments}
    return [
        _at(f"no segment of the required skill {n!r}") for n in rule["skills"] if n not in present
    ]


def _skill_order(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    firsts = [(next((s for s in e.segments if s.skill == n), None), n) for n in rule["skills"]]
    seen = [(s, n) for s, n in firsts if s is not None]
    for (a, first), (b, second) in itertools.pairwise(seen):
        if b.start_ns < a.start_ns:
            yield _at(f"{second!r} starts before {first!r}", b)


def _segment_length(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    low, high = rule.get("min_s"), rule.get("max_s")
    for s in e.segments:
        length = (s.end_ns - s.start_ns) / SECOND
        if low is not None and length < low:
            yield _at(f"{length:.2f} s is shorter than {low:g} s", s)
        elif high is not None and length > high:
            yield _at(f"{length:.2f} s is longer than {high:g} s", s)


def _no_overlap(_rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    last: dict[str | None, _Segment] = {}
    for s in e.segments:
        before = last.get(s.skill)
        if before is not None and s.start_ns < before.end_ns:
            message = f"overlaps segment #{before.id} of the same skill {s.skill!r}"
            yield _at(message, s, start_ns=s.start_ns, end_ns=min(s.end_ns, before.end_ns))
        if before is None or s.end_ns > before.end_ns:
            last[s.skill] = s


def _max_gap(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    limit, covered_to = rule["seconds"] * SECOND, 0
    for s in [*e.segments, _Segment(0, e.duration_ns, e.duration_ns, None, [], "")]:
        if s.start_ns - covered_to > limit:
            gap = (s.start_ns - covered_to) / SECOND
            message = f"{gap:.2f} s without a segment (at most {rule['seconds']:g} s)"
            yield _at(message, start_ns=covered_to, end_ns=s.start_ns)
        covered_to = max(covered_to, s.end_ns)


def _description(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    words = {w.lower() for w in rule.get("vocabulary", [])}
    for s in e.segments:
        text = s.description.strip()
        if rule.get("required") and not text:
            yield _at("the description is empty", s)
            continue
        if text and len(text) < rule.get("min_length", 0):
            yield _at(f"the description is shorter than {rule['min_length']}", s)
        if "max_length" in rule and len(text) > rule["max_length"]:
            yield _at(f"the description is longer than {rule['max_length']}", s)
        if words and (odd := sorted(set(text.lower().split()) - words)):
            yield _at(f"words outside the vocabulary: {', '.join(odd[:5])}", s)


def _skill_requires(rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    for name, needed in rule["requires"].items():
        first = next((s for s in e.segments if s.skill == name), None)
        if first is None:
            continue
        for other in needed:
            if not any(s.skill == other and s.start_ns < first.start_ns for s in e.segments):
                yield _at(f"{name!r} needs a segment of {other!r} before it", first)


def _labels_required(_rule: dict[str, Any], e: _Episode) -> Iterable[Broken]:
    return [_at("the segment has no label", s) for s in e.segments if not s.labels]


RULEBOOK = Rulebook(
    "rule",
    {
        "required_skills": Kind({"skills": NAMES}, needs=("skills",), evaluate=_required_skills),
        "skill_order": Kind({"skills": NAMES}, needs=("skills",), evaluate=_skill_order),
        "skill_requires": Kind({"requires": dict}, evaluate=_skill_requires),
        "segment_length": Kind({"min_s": NUMBER, "max_s": NUMBER}, evaluate=_segment_length),
        "no_overlap": Kind(evaluate=_no_overlap),
        "max_gap": Kind({"seconds": NUMBER}, needs=("seconds",), evaluate=_max_gap),
        "description": Kind(
            {"required": bool, "min_length": int, "max_length": int, "vocabulary": NAMES},
            evaluate=_description,
        ),
        "labels_required": Kind(evaluate=_labels_required),
    },
)
"""The annotation-rule kinds, the settings each takes and how each is evaluated (one engine
with the data checks: :mod:`annotation_kit.access.rulebook`)."""
KINDS = {name: kind.settings for name, kind in RULEBOOK.kinds.items()}


def check_episode(
    rules: Sequence[dict[str, Any]],
    segments: Sequence[_Segment],
    *,
    dataset_id: int,
    duration_ns: int,
) -> list[Finding]:
    """What one episode's segments break (pure: the rules and the segments in, findings out)."""
    episode = _Episode(sorted(segments, key=lambda s: (s.start_ns, s.end_ns)), duration_ns)
    return [
        Finding(rule["rule"], rule["severity"], b.message, dataset_id, **b.place)
        for rule, broken in RULEBOOK.evaluate(rules, episode)
        for b in broken
    ]


@readonly
def task_rules(session: Session, task: int) -> list[dict[str, Any]]:
    """The rules of the task's project (none without a project), and the skill library's
    dependencies (``skill_requires``: every task's, project or not)."""
    found = session.scalar(
        select(Project.annotation_rules)
        .join(Task, Task.project_id == Project.id)
        .where(Task.id == task)
    )
    rules = list(found or [])
    if requires := skills.requirements(session):
        rules.append({"rule": "skill_requires", "severity": "error", "requires": requires})
    return rules


@readonly
def evaluate(
    session: Session, task: int, *, dataset: int | None = None, author: int | None = None
) -> list[Finding]:
    """Every finding of the task's project rules on its annotated episodes (episodes marked
    invalid, and episodes without annotations, are left out); ``dataset``: on that one only.
    An independently annotated episode is checked once per annotator, on their own segments
    (``author``: only that annotator's); the consensus is not checked."""
    rules = task_rules(session, task)
    if not rules:
        return []
    names: dict[int, str] = dict(session.execute(select(Skill.id, Skill.name)).all())  # type: ignore[arg-type]
    rows = session.execute(
        select(Annotation, Dataset.duration_ns, TaskDataset.independent)
        .join(Dataset, Dataset.id == Annotation.dataset_id)
        .join(
            TaskDataset,
            (TaskDataset.dataset_id == Annotation.dataset_id) & (TaskDataset.task_id == task),
        )
        .where(Annotation.task_id == task, Annotation.consensus.is_(False))
        .where(true() if dataset is None else Annotation.dataset_id == dataset)
        .order_by(Annotation.dataset_id, Annotation.start_ns)
    ).all()
    per: dict[tuple[int, int], tuple[int, list[Annotation]]] = {}
    for annotation, duration, independent in rows:
        whose = annotation.author_id if independent else 0
        if independent and author is not None and whose != author:
            continue
        key = (annotation.dataset_id, whose)
        per.setdefault(key, (int(duration), []))[1].append(annotation)
    findings: list[Finding] = []
    for (dataset_id, _whose), (duration, found_here) in per.items():
        if any(a.kind == "episode" and not a.valid for a in found_here):
            continue  # an episode marked invalid is not held to the rules
        segments = [
            _Segment(
                a.id,
                int(a.start_ns),
                int(a.end_ns),
                names.get(a.skill_id) if a.skill_id else None,
                list(a.labels or []),
                a.description or "",
            )
            for a in found_here
            if a.kind == "segment" and a.valid and a.start_ns is not None and a.end_ns is not None
        ]
        findings += check_episode(rules, segments, dataset_id=dataset_id, duration_ns=duration)
    return findings
