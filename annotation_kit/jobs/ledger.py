"""The job ledger: every background job (export, import, data check...) as a row in the shared
database, and the admin operations on the queue (services: the session first).

The broker (huey, :mod:`.broker`) only carries job ids to workers; what a job is, who queued
it, its state, progress, log, error, attempts and result live here, so the queue views,
reports, retries and clean-up read one table whatever the broker.

States: ``waiting`` (queued), ``delayed`` (queued to start later), ``running``, ``completed``,
``failed``, ``cancelled``. A worker starts a job only by claiming it (:mod:`.claims`). A running
job whose worker stops beating (killed) is failed by :func:`reap`, and can be retried; exports
write into a staging folder, so its output is absent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from ..access import events
from ..access._inputs import json_problem
from ..access._text import at_least
from ..access.workflow import Role
from ..errors import NotFound, PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.locations import holds_credentials, scrub
from ..store.models import Job, JobState, QueueState, User, utcnow
from ..store.states import JOBS
from . import kinds
from .claims import INSERT_ROWS, insert_jobs

STATES = tuple(JobState)
LOST_AFTER = timedelta(seconds=float(os.environ.get("ANNOTATION_KIT_LOST_AFTER", "30")))
"""A running job whose worker has not beaten for this long is considered lost
(``$ANNOTATION_KIT_LOST_AFTER`` seconds, 30 by default)."""
RETRY_BATCH = 1000
LOG_LINES = 500


def require_admin(user: User, what: str) -> None:
    """Refuse (:class:`PermissionDenied`) unless ``user`` is an active admin."""
    if not user.active or user.role != Role.ADMIN:
        raise PermissionDenied(f"{user.name} may not {what}: only admins control the queue")


def _state(session: Session, *, lock: bool = False) -> QueueState:
    query = select(QueueState).where(QueueState.id == 1)
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        row = QueueState(id=1, paused=False)
        session.add(row)
        session.flush()
    return row


def get(session: Session, job: int) -> Job:
    """The job with this id (:class:`NotFound` if there is none)."""
    found = session.get(Job, job, populate_existing=True)
    if found is None:
        raise NotFound(f"no job with id {job}")
    return found


# ----- queueing (any user: the job then runs as them) ---------------------------------------


def _check(kind: str, params: Sequence[Any]) -> None:
    """A known kind, and each job's parameters a JSON object (checked before anything is
    written)."""
    if kind not in kinds.names():
        raise ValidationError(f"unknown job kind {kind!r}; known: {', '.join(kinds.names())}")
    if isinstance(params, str | bytes | dict):
        raise ValidationError("job parameters must be a list of dicts, one per job")
    for position, p in enumerate(params):
        if not isinstance(p, dict):
            raise ValidationError(
                f"job {position}: parameters must be a dict, got {type(p).__name__}"
            )
        try:
            text = json.dumps(p, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"job {position}: parameters are not JSON ({exc})") from exc
        if problem := json_problem(p):
            raise ValidationError(f"job {position}: parameters are not JSON: it {problem}")
        if holds_credentials(text):
            raise ValidationError(
                f"job {position}: a URL in its parameters carries a user name or password; "
                "a job never stores or sends secrets: give the workers their credentials "
                "through their environment (AWS_ACCESS_KEY_ID..., ~/.netrc) or the storage's "
                "own configuration, and name the source without them"
            )


def create(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    by: User,
    eta: datetime | None = None,
) -> Job:
    """Record a job; :mod:`.broker` sends it to the workers after commit."""
    _check(kind, [params])
    job = Job(
        kind=kind,
        params=params,
        created_by=by.id,
        state=JobState.DELAYED if eta is not None and eta > utcnow() else JobState.WAITING,
        eta=eta,
    )
    session.add(job)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="job",
        object_id=job.id,
        action="enqueue",
        to_state=job.state,
        kind=kind,
    )
    return job


def create_many(
    session: Session, kind: str, params: Sequence[dict[str, Any]], *, by: User
) -> list[int]:
    """Record many jobs of one kind (an INSERT per 100); returns their ids, ascending."""
    _check(kind, params)
    if not params:
        return []
    connection = session.connection()
    shared = {
        "kind": kind,
        "created_by": by.id,
        "state": JobState.WAITING,
        "created_at": utcnow(),
        "progress": 0.0,
        "log": [],
        "attempts": 0,
        "parked": False,
        "cancel_requested": False,
    }
    ids: list[int] = []
    for start in range(0, len(params), INSERT_ROWS):
        chunk = params[start : start + INSERT_ROWS]
        insert = insert_jobs(len(chunk), tuple(shared), connection.dialect)
        values = shared | {f"params_{i}": p for i, p in enumerate(chunk)}
        ids += connection.exec_driver_sql(insert.sql, insert.bind(**values)).scalars()
    ids.sort()
    _queue_event(session, by, "enqueue", f"{len(ids)} {kind} job(s)", jobs=[ids[0], ids[-1]])
    return ids


def _queue_event(session: Session, by: User, action: str, note: str, **data: Any) -> None:
    """An audit event for a change to the queue as a whole (object ``queue`` #0)."""
    events.record(
        session, by=by, object_type="queue", object_id=0, action=action, note=note, **data
    )


def beat(
    session: Session, job: int, *, progress: float | None = None, line: str | None = None
) -> bool:
    """The running worker's heartbeat, with progress and a log line; returns whether the job
    was asked to stop (cancelled)."""
    found = session.get(Job, job)
    if found is None or found.state != JobState.RUNNING:
        return True
    found.heartbeat_at = utcnow()
    if progress is not None:
        found.progress = max(0.0, min(1.0, float(progress)))
    if line:
        found.log = [*found.log, f"{utcnow():%H:%M:%S} {scrub(line)}"][-LOG_LINES:]
    return bool(found.cancel_requested)


def reap(session: Session, *, lost_after: timedelta = LOST_AFTER) -> int:
    """Fail running jobs whose worker stopped beating (killed): they can be retried."""
    return len(reap_ids(session, lost_after=lost_after))


def reap_ids(session: Session, *, lost_after: timedelta = LOST_AFTER) -> list[int]:
    """:func:`reap`, returning the ids of the jobs it failed (each with an event)."""
    cutoff = utcnow() - lost_after
    lost = Job.state.in_(JOBS.sources("reap")), Job.heartbeat_at < cutoff
    ids = list(session.scalars(select(Job.id).where(*lost)))
    if not ids:
        return []
    reason = (
        f"the worker stopped answering (no heartbeat for {lost_after.total_seconds():g} s): "
        "it was killed or lost; the job can be retried"
    )
    reaped = list(
        session.scalars(
            update(Job)
            .where(Job.id.in_(ids), *lost)
            .values(state=JOBS.target("reap"), finished_at=utcnow(), error=reason)
            .returning(Job.id)
        )
    )
    for job in reaped:
        events.record(
            session,
            by=None,
            object_type="job",
            object_id=job,
            action="reap",
            from_state=JobState.RUNNING,
            to_state=JOBS.target("reap"),
            note=reason,
        )
    return reaped


# ----- admin operations -------------------------------------------------------------------


def pause(session: Session, *, by: User) -> QueueState:
    """Stop starting jobs: running ones finish; a worker that already fetched one puts it back."""
    require_admin(by, "pause the queue")
    state = _state(session, lock=True)
    state.paused, state.changed_at, state.changed_by = True, utcnow(), by.id
    _queue_event(session, by, "pause", "paused")
    return state


def resume(session: Session, *, by: User) -> list[int]:
    """Start jobs again; returns the parked jobs to send to the workers again."""
    require_admin(by, "resume the queue")
    state = _state(session, lock=True)
    state.paused, state.changed_at, state.changed_by = False, utcnow(), by.id
    parked = list(
        session.scalars(select(Job.id).where(Job.parked.is_(True), Job.state == JobState.WAITING))
    )
    if parked:
        session.execute(update(Job).where(Job.id.in_(parked)).values(parked=False))
    _queue_event(session, by, "resume", f"resumed; {len(parked)} parked job(s) sent again")
    return parked


@readonly
def status(session: Session) -> dict[str, Any]:
    """Paused or not, counts per state, and throughput over the last hour."""
    state = session.scalar(select(QueueState).where(QueueState.id == 1))
    hour = utcnow() - timedelta(hours=1)
    done = session.scalar(
        select(func.count()).where(Job.state == JobState.COMPLETED, Job.finished_at >= hour)
    )
    return {
        "paused": bool(state and state.paused),
        "counts": counts(session),
        "completed_last_hour": done or 0,
        "per_minute": round((done or 0) / 60, 2),
    }


@readonly
def counts(session: Session) -> dict[str, int]:
    """Jobs per state (every state present, maybe 0)."""
    found = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    return {s: int(found.get(s, 0)) for s in STATES}


def clear(session: Session, *, by: User) -> int:
    """Cancel every waiting and delayed job (running ones go on)."""
    require_admin(by, "clear the queue")
    cleared = _count(
        session.execute(
            update(Job)
            .where(Job.state.in_(JOBS.sources("clear")))
            .values(
                state=JOBS.target("clear"), finished_at=utcnow(), error="cleared from the queue"
            )
        )
    )
    _queue_event(session, by, "clear", f"{cleared} waiting or delayed job(s) cancelled")
    return cleared


KEEP_MAX = timedelta(days=36_500)
"""The longest history :func:`clean` can be told to keep (a hundred years)."""


def clean(session: Session, *, older_than: timedelta = timedelta(hours=24), by: User) -> int:
    """Delete completed and failed jobs that finished more than ``older_than`` ago."""
    require_admin(by, "clean the job history")
    if not isinstance(older_than, timedelta):
        raise ValidationError(
            f"older_than is a timedelta such as timedelta(hours=24), not {older_than!r:.40}"
        )
    if older_than < timedelta(0):
        raise ValidationError("older_than must not be negative")
    if older_than > KEEP_MAX:
        raise ValidationError(f"older_than is at most {KEEP_MAX.days} days, not {older_than}")
    cutoff = utcnow() - older_than
    cleaned = _count(
        session.execute(
            delete(Job).where(Job.state.in_(JOBS.sources("clean")), Job.finished_at < cutoff)
        )
    )
    _queue_event(session, by, "clean", f"{cleaned} finished job(s) deleted", before=str(cutoff))
    return cleaned


def retry_failed(session: Session, *, limit: int = RETRY_BATCH, by: User) -> list[int]:
    """Queue again up to ``limit`` (at most 1,000) failed jobs, oldest first; returns their ids
    (to send to the workers)."""
    require_admin(by, "retry jobs")
    if not 1 <= limit <= RETRY_BATCH:
        raise ValidationError(f"a batch retry takes 1 to {RETRY_BATCH} jobs, got {limit}")
    ids = list(
        session.scalars(
            select(Job.id).where(Job.state == JobState.FAILED).order_by(Job.id).limit(limit)
        )
    )
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(
                state=JOBS.target("retry"), finished_at=None, progress=0.0, cancel_requested=False
            )
        )
    _queue_event(session, by, "retry", f"{len(ids)} failed job(s) queued again", jobs=ids[:20])
    return ids


def retry(session: Session, job: int, *, by: User) -> Job:
    """Run a failed or cancelled job again; a waiting job is sent to the workers again (its
    message may have been lost by the broker: a worker runs it once whatever it receives)."""
    require_admin(by, "retry jobs")
    found = get(session, job)
    if found.state == JobState.WAITING and not found.parked:
        events.record(session, by=by, object_type="job", object_id=found.id, action="resend")
        return found
    target = JOBS.move(found.state, "retry", name=f"job #{found.id}")
    events.record(
        session,
        by=by,
        object_type="job",
        object_id=found.id,
        action="retry",
        from_state=found.state,
        to_state=target,
    )
    found.state, found.finished_at, found.progress = target, None, 0.0
    found.cancel_requested = False
    return found


def cancel(session: Session, job: int, *, by: User) -> Job:
    """Cancel a waiting or delayed job, or ask a running one to stop (it stops at its next
    progress report)."""
    found = get(session, job)
    if found.created_by != by.id:
        require_admin(by, "cancel other people's jobs")
    before = found.state
    if found.state == JobState.RUNNING:  # it stops at its next progress report
        found.cancel_requested = True
    else:
        found.state = JOBS.move(found.state, "cancel", name=f"job #{found.id}")
        found.finished_at = utcnow()
    events.record(
        session,
        by=by,
        object_type="job",
        object_id=found.id,
        action="cancel",
        from_state=before,
        to_state=found.state,
        note="" if before != JobState.RUNNING else "asked to stop",
    )
    return found


@readonly
def list_jobs(
    session: Session, *, state: str | None = None, kind: str | None = None, limit: int = 100
) -> Sequence[Job]:
    """Jobs, newest first."""
    if state is not None and state not in STATES:
        raise ValidationError(f"state must be one of {', '.join(STATES)}")
    query = select(Job).order_by(Job.id.desc()).limit(at_least(limit, "limit"))
    if state:
        query = query.where(Job.state == state)
    if kind:
        query = query.where(Job.kind == kind)
    return session.scalars(query).all()


def _count(result: Any) -> int:
    """The rows a bulk UPDATE or DELETE touched."""
    return cast(CursorResult[Any], result).rowcount
