"""How a LeRobot export cuts its episodes: the units (one LeRobot episode each: a whole source
episode, or with ``strict_match`` one segment), each unit's task text, the dataset's one fps,
and where an annotation's bounds fall in a unit's frames."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ValidationError
from . import lerobot_language as language
from .plan import AnnotationRecord, EpisodePlan, Plan
from .sampling import common_whole_rate


@dataclass
class Unit:
    """One LeRobot episode: a span of one exported episode."""

    episode: EpisodePlan
    start_ns: int
    end_ns: int
    task: str
    records: list[AnnotationRecord] = field(default_factory=list)


def fps(rate_hz: float | None, plan: Plan, cameras: bool) -> int:
    """The dataset's one fps: ``rate_hz`` when given (a whole number), else the episodes' own
    common whole-number rate (refused with the rates named when they have none)."""
    if rate_hz is None:
        return common_whole_rate(plan.episodes, cameras=cameras)
    try:
        whole = int(rate_hz)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"rate_hz must be a whole number, got {rate_hz!r}") from None
    if whole != rate_hz or whole <= 0:
        raise ValidationError(
            f"rate_hz must be a whole number of frames per second above 0 (LeRobot's fps is an "
            f"integer), got {rate_hz!r}"
        )
    return whole


def task_text(episode: EpisodePlan, plan: Plan, text: str) -> str:
    """An episode's LeRobot task: its source's own (``text="source"``), else its annotation
    task's description or name."""
    if text == "source" and episode.source_task:
        return episode.source_task
    names = {t["name"]: t for t in plan.tasks}
    for name in episode.tasks:
        if name in names:
            return names[name].get("description") or name
    return episode.name


def units(plan: Plan, strict: bool, text: str) -> list[Unit]:
    """The LeRobot episodes of ``plan``: one per episode, or one per segment (``strict``)."""
    out = []
    for episode in plan.episodes:
        if not strict:
            out.append(
                Unit(
                    episode,
                    0,
                    episode.duration_ns,
                    task_text(episode, plan, text),
                    list(episode.annotations),
                )
            )
            continue
        for a in sorted(episode.segments, key=lambda r: (r.start_ns or 0, r.annotation)):
            out.append(Unit(episode, a.start_ns or 0, a.end_ns or 0, language.text(a), [a]))
    return out


def frame_of(t_ns: int | None, unit: Unit, rate: float) -> int | None:
    """The frame of ``unit`` that ``t_ns`` (on the episode clock) falls on."""
    if t_ns is None:
        return None
    return round((t_ns - unit.start_ns) * rate / 1e9)
