"""Which workers are there. Every worker's housekeeping process says so every ``BEAT_S``
seconds (a row of ``worker_presence`` per worker, named ``host:pid``); the Queue page counts
the workers heard from within ``PRESENT_FOR`` and warns when there is none, so a queued job
never waits for ever on a page that says "Running"."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..store.database import readonly
from ..store.models import WorkerPresence, utcnow

BEAT_S = 5.0
PRESENT_FOR = timedelta(seconds=20)
FORGOTTEN_AFTER = timedelta(days=1)


def name_of(pid: int) -> str:
    """How a worker process is named: ``host:pid``."""
    return f"{socket.gethostname()}:{pid}"


def beat(session: Session, name: str) -> None:
    """``name`` is there now (and the rows of workers gone for a day are dropped)."""
    now = utcnow()
    found = session.get(WorkerPresence, name)
    if found is None:
        session.add(WorkerPresence(name=name, started_at=now, seen_at=now))
    else:
        found.seen_at = now
    session.execute(delete(WorkerPresence).where(WorkerPresence.seen_at < now - FORGOTTEN_AFTER))


def leave(session: Session, name: str) -> None:
    """``name`` stopped (when it can say so; otherwise it is no longer counted after a while)."""
    session.execute(delete(WorkerPresence).where(WorkerPresence.name == name))


@readonly
def present(session: Session) -> list[str]:
    """The workers heard from lately, by name."""
    since = utcnow() - PRESENT_FOR
    query = select(WorkerPresence.name).where(WorkerPresence.seen_at >= since)
    return list(session.scalars(query.order_by(WorkerPresence.name)))
