"""The ledger's hot statements, each compiled once and run straight on a DB-API cursor: the
worker's claim, park, finish and heartbeat, and the insert of many jobs at once.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, false, or_, select, true

from ..store.locations import scrub
from ..store.models import Job, JobState, QueueState, User, utcnow
from ..store.states import JOBS

_T = cast(Table, Job.__table__)
_QS = cast(Table, QueueState.__table__)
_WAITING = or_(*(_T.c.state == s for s in JOBS.sources("claim")))  # no IN: compiled once
# FOR SHARE on PostgreSQL: a claim waits for a pause being committed and then sees it (SQLite:
# the statement holds the write lock from its start).
_PAUSED = select(_QS.c.paused).where(_QS.c.id == 1).with_for_update(read=True).scalar_subquery()
_CLAIM = (
    _T.update()
    .where(_T.c.id == bindparam("job"), _WAITING, _PAUSED.is_(false()))
    .values(
        state=JOBS.target("claim"),
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
    .values(parked=True, state=JOBS.target("park"))
)
_FINISH = (
    _T.update()
    .where(_T.c.id == bindparam("job"), _T.c.state == JobState.RUNNING)
    .values(
        finished_at=bindparam("now"),
        state=bindparam("state"),
        error=bindparam("error"),
        result=bindparam("result"),
        progress=case((bindparam("state") == JobState.COMPLETED, 1.0), else_=_T.c.progress),
    )
)


class Prepared:
    """A Core statement compiled once for a dialect and run straight on a DB-API cursor: the
    worker's per-job writes skip SQLAlchemy's per-execution work (about 0.1 ms a statement,
    more than SQLite's own)."""

    def __init__(self, statement: Any, dialect: Any) -> None:
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
        """Execute the statement on a DB-API ``cursor`` with ``values``."""
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

    def __init__(self, engine: Any) -> None:
        # Reads (owners, a job's state) go through plain BEGIN; writes are single statements.
        self.engine, self.lock = engine, threading.Lock()
        dialect = engine.dialect
        self._claim, self._park = Prepared(_CLAIM, dialect), Prepared(_PARK, dialect)
        self._finish = Prepared(_FINISH, dialect)
        self._connection: Any = None
        self._cursor: Any = None
        self._owners: dict[int, str] = {}

    def _write(self, statement: Prepared, **values: Any) -> tuple[int, Any]:
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
            if state not in JOBS.sources("claim"):
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
        action = "stop" if cancelled else "fail" if error is not None else "complete"
        state = JOBS.target(action)
        self._write(
            self._finish,
            job=job,
            now=utcnow(),
            state=state,
            error=scrub(error[-20_000:]) if error is not None else None,
            result=result if state == JobState.COMPLETED else None,
        )

    def beat(self, ids: Sequence[int]) -> None:
        """The heartbeat of the jobs running in this process (one statement for all)."""
        if ids:
            statement = (
                _T.update()
                .where(_T.c.id.in_(list(ids)), _T.c.state == JobState.RUNNING)
                .values(heartbeat_at=bindparam("now", None, type_=_T.c.heartbeat_at.type))
            )
            self._write(Prepared(statement, self.engine.dialect), now=utcnow())

    def owner(self, user_id: int) -> str:
        """The name of a job's owner (cached: users are never renamed)."""
        if user_id not in self._owners:
            with self.engine.connect() as connection:
                self._owners[user_id] = connection.execute(
                    select(User.__table__.c.name).where(User.__table__.c.id == user_id)
                ).scalar_one()
        return self._owners[user_id]


def worker_name() -> str:
    """``host:pid`` of this worker process."""
    return f"{_HOST}:{os.getpid()}"


_HOST = socket.gethostname()


INSERT_ROWS = 100
"""Jobs per INSERT statement when many are queued at once."""


@functools.lru_cache(maxsize=64)
def insert_jobs(rows: int, shared: tuple[str, ...], dialect: Any) -> Prepared:
    """``INSERT INTO jobs ... VALUES (...), (...) RETURNING id`` for ``rows`` jobs that differ
    only in their params (the ``shared`` columns are bound once), compiled once: SQLAlchemy's
    own executemany spends some 40 us a row."""
    table = _T
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
    return Prepared(statement, dialect)
