"""Housekeeping on a schedule of the workers' own (and on demand): fail the jobs whose worker
died, with the exports they were writing, and send again the waiting jobs whose broker message
was lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..access import events
from ..exports.run import abandon
from ..store.models import Job, JobState
from . import ledger
from .broker import engine, queued_ids, send


def reap(ws: Any) -> list[int]:
    """Fail the running jobs whose worker died, and the exports they were writing (their
    staging folders removed). Returns the job ids."""
    with ws.transaction() as session:
        lost = ledger.reap_ids(session)
        abandon(session, lost, "the worker running this export was killed or lost")
    return lost


def reconcile(ws: Any, queue_url: str, missing_before: set[int] | None = None) -> set[int]:
    """Send again the waiting jobs the broker holds no message for. With ``missing_before``
    (the worker's schedule) a job is sent only when it was missing at the previous call too
    (a worker may be between taking a message and claiming its job), and the ids missing now
    are returned for the next call; without it every missing job is sent (a duplicate message
    is harmless: a job is claimed once)."""
    huey, _run = engine(queue_url)
    queued = queued_ids(huey)
    with ws.transaction(write=False) as session:
        waiting = set(
            session.scalars(
                select(Job.id).where(Job.state == JobState.WAITING, Job.parked.is_(False))
            )
        )
    missing = waiting - queued - queued_ids(huey)
    again = sorted(missing if missing_before is None else missing & missing_before)
    if again:
        send(queue_url, ws.url, again)
        with ws.transaction() as session:
            for job in again:
                events.record(
                    session,
                    by=None,
                    object_type="job",
                    object_id=job,
                    action="resend",
                    note="the broker had no message for this waiting job",
                )
    return set(again) if missing_before is None else missing - set(again)
