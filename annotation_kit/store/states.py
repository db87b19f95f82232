"""Where background jobs and export runs can go, declared once as data (as the task workflow is
in :mod:`annotation_kit.access.workflow`): each action, the states it applies to, the state it
leads to. The ledger's statements take their states from here, and an action that does not
apply is refused with an error naming the state it found."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidTransition
from .models import ExportStatus, JobState


@dataclass(frozen=True)
class Move:
    """One action: from any of ``sources`` to ``target``."""

    action: str
    sources: tuple[str, ...]
    target: str


class Machine:
    """The moves of one kind of record (``what``: "job", "export")."""

    def __init__(self, what: str, moves: tuple[Move, ...]) -> None:
        self.what = what
        self.moves = {m.action: m for m in moves}

    def sources(self, action: str) -> tuple[str, ...]:
        """The states ``action`` applies to."""
        return self.moves[action].sources

    def target(self, action: str) -> str:
        """The state ``action`` leads to."""
        return self.moves[action].target

    def move(self, state: str, action: str, *, name: str) -> str:
        """The state after ``action`` on ``name`` (e.g. "job #4"), which is in ``state``; an
        :class:`InvalidTransition` naming the state when the action does not apply."""
        found = self.moves[action]
        if state not in found.sources:
            raise InvalidTransition(
                f"{name} is {state}: {action} applies to {' or '.join(found.sources)} "
                f"{self.what}s only"
            )
        return found.target


W, D, R = JobState.WAITING, JobState.DELAYED, JobState.RUNNING
C, F, X = JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED

JOBS = Machine(
    "job",
    (
        Move("claim", (W, D), R),  # a worker takes it
        Move("park", (W, D), W),  # the queue is paused: it waits for a resume
        Move("complete", (R,), C),
        Move("fail", (R,), F),
        Move("stop", (R,), X),  # asked to stop, it ended at its next progress report
        Move("reap", (R,), F),  # its worker stopped beating: killed or lost
        Move("cancel", (W, D), X),
        Move("clear", (W, D), X),  # the whole queue's waiting jobs
        Move("retry", (F, X), W),
        Move("clean", (C, F), ""),  # old finished history deleted
    ),
)
"""A job's life: waiting (or delayed) → running → completed, failed or cancelled; failed and
cancelled ones can be retried."""

FINISHED = (C, F, X)
"""The states a job ends in."""

EXPORTS = Machine(
    "export",
    (
        Move("complete", (ExportStatus.RUNNING,), ExportStatus.COMPLETED),
        Move("fail", (ExportStatus.RUNNING,), ExportStatus.FAILED),
        Move("reap", (ExportStatus.RUNNING,), ExportStatus.FAILED),  # its process died
    ),
)
"""An export run's life: running → completed or failed."""
