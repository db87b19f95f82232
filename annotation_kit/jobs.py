"""The job ledger: every background job (export, import, data check...) as a row in the shared
database, and the admin operations on the queue.

The queue engine (huey, see :mod:`annotation_kit.queue`) only carries job ids to workers; what
a job is, who queued it, its state, progress, log, error, attempts and result live here, so
the queue views, reports, retries and clean-up read one table whatever the broker.

States: ``waiting`` (queued), ``delayed`` (queued to start later), ``running``, ``completed``,
``failed``, ``cancelled``. A worker starts a job only by claiming it: one conditional update
that succeeds for one worker, and only while the queue is not paused — the pause flag is read
and the job claimed in the same write transaction, so a pause that lands after a worker fetched
a job makes that worker put it back (``parked``) instead of running it; resume sends parked jobs
again. A running job whose worker stops beating (killed) is failed by :func:`reap`, and can be
retried; exports write into a staging folder, so its output is absent.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from . import events
from ._inputs import json_problem
from ._text import at_least
from .database import readonly
from .errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from .models import Job, QueueState, User, utcnow
from .storage import holds_credentials, scrub
from .workflow import Role

STATES = ("waiting", "delayed", "running", "completed", "failed", "cancelled")
FINISHED = ("completed", "failed", "cancelled")
LOST_AFTER = timedelta(seconds=float(os.environ.get("ANNOTATION_KIT_LOST_AFTER", "30")))
"""A running job whose worker has not beaten for this long is considered lost
(``$ANNOTATION_KIT_LOST_AFTER`` seconds, 30 by default)."""
RETRY_BATCH = 1000
LOG_LINES = 500


def require_admin(user: User, what: str) -> None:
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
    found = session.get(Job, job, populate_existing=True)
    if found is None:
        raise NotFound(f"no job with id {job}")
    return found


# ----- queueing (any user: the job then runs as them) ---------------------------------------


def _check(kind: str, params: Sequence[Any]) -> None:
    """A known kind, and each job's parameters a JSON object (checked before anything is
    written)."""
    from .queue import kinds

    if kind not in kinds():
        raise ValidationError(f"unknown job kind {kind!r}; known: {', '.join(sorted(kinds()))}")
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
    """Record a job; :mod:`annotation_kit.queue` sends it to the workers after commit."""
    _check(kind, [params])
    job = Job(
        kind=kind,
        params=params,
        created_by=by.id,
        state="delayed" if eta is not None and eta > utcnow() else "waiting",
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
        "state": "waiting",
        "created_at": utcnow(),
        "progress": 0.0,
        "log": [],
        "attempts": 0,
        "parked": False,
        "cancel_requested": False,
    }
    ids: list[int] = []
    for start in range(0, len(params), _INSERT_ROWS):
        chunk = params[start : start + _INSERT_ROWS]
        insert = _insert(len(chunk), tuple(shared), connection.dialect)
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


_INSERT_ROWS = 100


@functools.lru_cache(maxsize=64)
def _insert(rows: int, shared: tuple[str, ...], dialect: Any) -> _Prepared:
    """``INSERT INTO jobs ... VALUES (...), (...) RETURNING id`` for ``rows`` jobs that differ
    only in their params (the ``shared`` columns are bound once), compiled once: SQLAlchemy's
    own executemany spends some 40 us a row."""
    table = Job.__table__
    binds = {name: bindparam(name, type_=table.c[name].type) for name in shared}
    statement = (
        table.insert()
        .values(
            [
                binds | {"params": bindparam(f"params_{i}", type_=table.c.params.type)}
                for i in range(rows)
            ]
        )
        .returning(table.c.id)
    )
    return _Prepared(statement, dialect)


# ----- the worker side --------------------------------------------------------------------


_T = Job.__table__
_QS = QueueState.__table__
_WAITING = or_(_T.c.state == "waiting", _T.c.state == "delayed")  # no IN: compiled once
# FOR SHARE on PostgreSQL: a claim waits for a pause being committed and then sees it (SQLite:
# the statement holds the write lock from its start).
_PAUSED = select(_QS.c.paused).where(_QS.c.id == 1).with_for_update(read=True).scalar_subquery()
_CLAIM = (
    _T.update()
    .where(_T.c.id == bindparam("job"), _WAITING, _PAUSED.is_(false()))
    .values(
        state="running",
        worker=bindparam("worker"),
        attempts=_T.c.attempts + 1,
        parked=False,
        error=None,
        started_at=bindparam("now"),
        heartbeat_at=bindparam("now"),
    )
    .returning(_T.c.kind, _T.c.params, _T.c.created_by)
)
_PARK = (
    _T.update()
    .where(_T.c.id == bindparam("job"), _WAITING, _PAUSED.is_(true()))
    .values(parked=True, state="waiting")
)
_FINISH = (
    _T.update()
    .where(_T.c.id == bindparam("job"), _T.c.state == "running")
    .values(
        finished_at=bindparam("now"),
        state=bindparam("state"),
        error=bindparam("error"),
        result=bindparam("result"),
        progress=case((bindparam("state") == "completed", 1.0), else_=_T.c.progress),
    )
)


class _Prepared:
    """A Core statement compiled once for a dialect and run straight on a DB-API cursor: the
    worker's per-job writes skip SQLAlchemy's per-execution work (about 0.1 ms a statement,
    more than SQLite's own)."""

    def __init__(self, statement: Any, dialect: Any):
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if dialect.positional else None
        self.processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        self.defaults = {  # the statement's constants, converted for the driver once
            name: self.processors[name](value) if name in self.processors else value
            for name, value in compiled.params.items()
        }

    def bind(self, **values: Any) -> Any:
        """The driver's parameters: a tuple (SQLite's ``?``) or a dict (psycopg's names)."""
        for name, value in values.items():
            if (processor := self.processors.get(name)) is not None:
                values[name] = processor(value)
        params = self.defaults | values
        return tuple(params[n] for n in self.order) if self.order is not None else params

    def run(self, cursor: Any, **values: Any) -> Any:
        cursor.execute(self.sql, self.bind(**values))
        return cursor


class Ledger:
    """A worker process's writes to the ledger: claim, finish, heartbeat.

    Each is one statement, committed on its own, on one DB-API connection the process keeps,
    one at a time (threads of a process would otherwise wait for SQLite's write lock in its
    busy handler, which sleeps in whole milliseconds). The claim reads the pause flag in the
    same statement that takes the job, so a pause and a claim never cross, and only one
    worker's claim of a job succeeds.
    """

    def __init__(self, engine: Any):
        # Reads (owners, a job's state) go through plain BEGIN; writes are single statements.
        self.engine, self.lock = engine, threading.Lock()
        dialect = engine.dialect
        self._claim, self._park = _Prepared(_CLAIM, dialect), _Prepared(_PARK, dialect)
        self._finish = _Prepared(_FINISH, dialect)
        self._connection: Any = None
        self._cursor: Any = None
        self._owners: dict[int, str] = {}

    def _write(self, statement: _Prepared, **values: Any) -> tuple[int, Any]:
        """Run one statement on its own (it is its own transaction) and commit it."""
        with self.lock:
            if self._connection is None:
                self._connection = self.engine.raw_connection()
                self._cursor = self._connection.cursor()
            connection, cursor = self._connection, self._cursor
            try:
                statement.run(cursor, **values)
                row = cursor.fetchone() if cursor.description else None
                count = cursor.rowcount
                connection.driver_connection.commit()
            except BaseException:
                self._connection = None
                connection.invalidate()
                raise
            return count, row

    def close(self) -> None:
        """Give the connection back to the pool (workers keep their ledger until they exit)."""
        with self.lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def claim(self, job: int, worker: str) -> tuple[str, dict[str, Any] | None]:
        """Start ``job`` on ``worker`` if it may start now: ``("run", job)`` with its kind,
        params and owner, ``("parked", None)`` (queue paused: not started, sent again on
        resume) or ``("skip", None)`` (cancelled, cleared, done, or another worker has it)."""
        while True:
            _count, row = self._write(self._claim, job=job, worker=worker, now=utcnow())
            if row is not None:
                kind, params, owner = row
                if isinstance(params, str):
                    params = json.loads(params)
                return "run", {"kind": kind, "params": dict(params or {}), "owner": owner}
            parked, _row = self._write(self._park, job=job)
            if parked:
                return "parked", None
            # Neither: the job is not waiting any more, or a pause was lifted in between.
            with self.engine.connect() as connection:
                state = connection.execute(select(_T.c.state).where(_T.c.id == job)).scalar()
            if state not in ("waiting", "delayed"):
                return "skip", None

    def finish(
        self,
        job: int,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        cancelled: bool = False,
    ) -> None:
        """Record how a running job ended (nothing when it was reaped or cancelled meanwhile)."""
        state = "cancelled" if cancelled else "failed" if error is not None else "completed"
        self._write(
            self._finish,
            job=job,
            now=utcnow(),
            state=state,
            error=scrub(error[-20_000:]) if error is not None else None,
            result=result if state == "completed" else None,
        )

    def beat(self, ids: Sequence[int]) -> None:
        """The heartbeat of the jobs running in this process (one statement for all)."""
        if ids:
            statement = (
                _T.update()
                .where(_T.c.id.in_(list(ids)), _T.c.state == "running")
                .values(heartbeat_at=bindparam("now", None, type_=_T.c.heartbeat_at.type))
            )
            self._write(_Prepared(statement, self.engine.dialect), now=utcnow())

    def owner(self, user_id: int) -> str:
        """The name of a job's owner (cached: users are never renamed)."""
        if user_id not in self._owners:
            with self.engine.connect() as connection:
                self._owners[user_id] = connection.execute(
                    select(User.__table__.c.name).where(User.__table__.c.id == user_id)
                ).scalar_one()
        return self._owners[user_id]


def beat(
    session: Session, job: int, *, progress: float | None = None, line: str | None = None
) -> bool:
    """The running worker's heartbeat, with progress and a log line; returns whether the job
    was asked to stop (cancelled)."""
    found = session.get(Job, job)
    if found is None or found.state != "running":
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
    lost = Job.state == "running", Job.heartbeat_at < cutoff
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
            .values(state="failed", finished_at=utcnow(), error=reason)
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
            from_state="running",
            to_state="failed",
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
        session.scalars(select(Job.id).where(Job.parked.is_(True), Job.state == "waiting"))
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
        select(func.count()).where(Job.state == "completed", Job.finished_at >= hour)
    )
    return {
        "paused": bool(state and state.paused),
        "counts": counts(session),
        "completed_last_hour": done or 0,
        "per_minute": round((done or 0) / 60, 2),
    }


@readonly
def counts(session: Session) -> dict[str, int]:
    found = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    return {s: int(found.get(s, 0)) for s in STATES}


def clear(session: Session, *, by: User) -> int:
    """Cancel every waiting and delayed job (running ones go on)."""
    require_admin(by, "clear the queue")
    cleared = session.execute(
        update(Job)
        .where(Job.state.in_(("waiting", "delayed")))
        .values(state="cancelled", finished_at=utcnow(), error="cleared from the queue")
    ).rowcount
    _queue_event(session, by, "clear", f"{cleared} waiting or delayed job(s) cancelled")
    return cleared


def clean(session: Session, *, older_than: timedelta = timedelta(hours=24), by: User) -> int:
    """Delete completed and failed jobs that finished more than ``older_than`` ago."""
    require_admin(by, "clean the job history")
    if older_than < timedelta(0):
        raise ValidationError("older_than must not be negative")
    cutoff = utcnow() - older_than
    cleaned = session.execute(
        delete(Job).where(Job.state.in_(("completed", "failed")), Job.finished_at < cutoff)
    ).rowcount
    _queue_event(session, by, "clean", f"{cleaned} finished job(s) deleted", before=str(cutoff))
    return cleaned


def retry_failed(session: Session, *, limit: int = RETRY_BATCH, by: User) -> list[int]:
    """Queue again up to ``limit`` (at most 1,000) failed jobs, oldest first; returns their ids
    (to send to the workers)."""
    require_admin(by, "retry jobs")
    if not 1 <= limit <= RETRY_BATCH:
        raise ValidationError(f"a batch retry takes 1 to {RETRY_BATCH} jobs, got {limit}")
    ids = list(
        session.scalars(select(Job.id).where(Job.state == "failed").order_by(Job.id).limit(limit))
    )
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(state="waiting", finished_at=None, progress=0.0, cancel_requested=False)
        )
    _queue_event(session, by, "retry", f"{len(ids)} failed job(s) queued again", jobs=ids[:20])
    return ids


def retry(session: Session, job: int, *, by: User) -> Job:
    """Run a failed or cancelled job again; a waiting job is sent to the workers again (its
    message may have been lost by the broker: a worker runs it once whatever it receives)."""
    require_admin(by, "retry jobs")
    found = get(session, job)
    if found.state == "waiting" and not found.parked:
        events.record(session, by=by, object_type="job", object_id=found.id, action="resend")
        return found
    if found.state not in ("failed", "cancelled"):
        raise InvalidTransition(
            f"job #{found.id} is {found.state}: only failed, cancelled or waiting jobs can be "
            "retried"
        )
    events.record(
        session,
        by=by,
        object_type="job",
        object_id=found.id,
        action="retry",
        from_state=found.state,
        to_state="waiting",
    )
    found.state, found.finished_at, found.progress = "waiting", None, 0.0
    found.cancel_requested = False
    return found


def cancel(session: Session, job: int, *, by: User) -> Job:
    """Cancel a waiting or delayed job, or ask a running one to stop (it stops at its next
    progress report)."""
    found = get(session, job)
    if found.created_by != by.id:
        require_admin(by, "cancel other people's jobs")
    before = found.state
    if found.state in ("waiting", "delayed"):
        found.state, found.finished_at = "cancelled", utcnow()
    elif found.state == "running":
        found.cancel_requested = True
    else:
        raise InvalidTransition(f"job #{found.id} is already {found.state}")
    events.record(
        session,
        by=by,
        object_type="job",
        object_id=found.id,
        action="cancel",
        from_state=before,
        to_state=found.state,
        note="" if before != "running" else "asked to stop",
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


def worker_name() -> str:
    """``host:pid`` of this worker process."""
    return f"{_HOST}:{os.getpid()}"


_HOST = socket.gethostname()
