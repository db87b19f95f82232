"""The worker: ``annotation-kit worker`` runs a huey consumer whose processes claim and run
jobs, beat for the jobs they run, and keep house (reap lost jobs, re-send lost messages).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from ..access import events
from ..errors import ValidationError
from ..store.models import JobState
from ..work.mail import send_pending
from . import kinds, ledger, presence
from .broker import engine, public_url, serve_with
from .claims import Ledger, worker_name
from .housekeeping import reap, reconcile
from .kinds import Cancelled, Context

log = logging.getLogger(__name__)
HEARTBEAT_S = float(os.environ.get("ANNOTATION_KIT_HEARTBEAT", "5"))


def execute(job: int, workspace_url: str, queue_url: str) -> str:
    """Claim and run one job in this process (what a worker does with each message)."""
    ledger = _ledger(workspace_url)
    outcome, found = ledger.claim(job, worker_name())
    if found is None:
        return outcome
    ws = _workspace(workspace_url, ledger.owner(found["owner"]))
    running = (ledger, job)
    _RUNNING.add(running)
    _heartbeat()
    try:
        context = Context(job, functools.partial(_report, ws, job))
        result = kinds.get(found["kind"])(ws, context, **found["params"])
    except Cancelled:
        ledger.finish(job, cancelled=True)
        return JobState.CANCELLED
    except BaseException as exc:
        ledger.finish(job, error=traceback.format_exc())
        _told(ws, job, found["kind"], "fail", f"{type(exc).__name__}: {exc}")
        return JobState.FAILED
    finally:
        _RUNNING.discard(running)
    ledger.finish(job, result=result)
    _told(ws, job, found["kind"], "complete", "")
    return JobState.COMPLETED


def _told(ws: Any, job: int, kind: str, action: str, note: str) -> None:
    """The end of a job in the audit log, as its owner's act, so the owner is notified
    (:mod:`annotation_kit.work.notifications`); the ledger already holds the outcome, so a failure
    to record it (the owner disabled meanwhile...) is logged, not raised."""
    if not kinds.tells(kind):
        return
    try:
        with ws.transaction() as session:
            events.record(
                session,
                by=ws.me(session),
                object_type="job",
                object_id=job,
                action=action,
                note=note[-500:],
                kind=kind,
            )
    except Exception:
        log.exception("job #%s ended, but its end could not be recorded for its owner", job)


def _report(ws: Any, job: int, fraction: float | None, line: str | None) -> bool:
    """A running job's progress and log line; whether it was asked to stop."""
    with ws.transaction() as session:
        return ledger.beat(session, job, progress=fraction, line=line)


_RUNNING: set[tuple[Ledger, int]] = set()
"""The jobs running in this process, with their workspace's ledger (for the heartbeat)."""
_BEATING = threading.Lock()


def _heartbeat() -> None:
    """Start this process's heartbeat thread (once): every ``HEARTBEAT_S`` it tells each
    ledger that its running jobs are alive, in one statement."""
    if _BEATING.acquire(blocking=False):

        def beat() -> None:
            while True:
                time.sleep(HEARTBEAT_S)
                by_ledger: dict[Ledger, list[int]] = {}
                for ledger, job in list(_RUNNING):
                    by_ledger.setdefault(ledger, []).append(job)
                for ledger, ids in by_ledger.items():
                    # On an error the next beat tries again (reap waits 30 s).
                    with contextlib.suppress(Exception):
                        ledger.beat(ids)

        threading.Thread(target=beat, name="annotation_kit-heartbeat", daemon=True).start()


@functools.cache
def _ledger(workspace_url: str) -> Ledger:
    return Ledger(_workspace(workspace_url, None).db.engine)


@functools.lru_cache(maxsize=64)
def _workspace(workspace_url: str, user: str | None) -> Any:
    """The workspace of this worker process, as ``user`` (None: for reading the ledger); one
    database connection pool per process, whatever the number of jobs."""
    from ..workspace import Workspace, connect

    if user is None:
        return connect(workspace_url, user=_system_user(workspace_url))
    return Workspace(_workspace(workspace_url, None).db, user)


@functools.cache
def _system_user(workspace_url: str) -> str:
    """A user to read the ledger as (the workers act for nobody: each job runs as its owner)."""
    from sqlalchemy import select

    from ..access import database_logins
    from ..store.database import Database
    from ..store.models import User

    database = Database.open(workspace_url)
    try:
        with database.transaction(write=False) as session:
            # where database logins identify people, the worker's own login decides
            name = database_logins.identify(session) or session.scalar(
                select(User.name).order_by(User.id).limit(1)
            )
    finally:
        database.dispose()  # the consumer forks its workers next: no connection to inherit
    if name is None:
        raise ValidationError("the workspace has no users yet")
    return name


def _housekeeping(workspace_url: str, queue_url: str) -> None:
    """The worker's own schedule, in a process of its own: reap lost jobs, re-send jobs whose
    message is gone, and mail notifications (:mod:`annotation_kit.work.mail`).

    A process, not a thread of the consumer: huey forks its worker processes from the consumer,
    and a fork taken while another thread holds SQLite's (or any) lock leaves that lock held
    forever in the child. So the consumer runs no thread of ours, and this process (a daemon:
    stopped with the consumer) watches that its parent is still there."""
    import multiprocessing

    multiprocessing.get_context("fork").Process(
        target=_keep_house,
        args=(workspace_url, queue_url, os.getpid()),
        name="annotation_kit-housekeeping",
        daemon=True,
    ).start()


def _keep_house(workspace_url: str, queue_url: str, parent: int) -> None:
    every = max(1.0, ledger.LOST_AFTER.total_seconds() / 3)
    ws = _workspace(workspace_url, None)
    missing: set[int] = set()
    me = presence.name_of(parent)
    last = 0.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped with the consumer: say so
    try:
        while os.getppid() == parent:  # the consumer was killed: so is its housekeeping
            # the database is down: next beat
            with contextlib.suppress(Exception), ws.transaction() as session:
                presence.beat(session, me)
            time.sleep(presence.BEAT_S)
            if time.monotonic() - last < every:
                continue
            last = time.monotonic()
            _rounds(ws, queue_url, missing)
    finally:
        with contextlib.suppress(Exception), ws.transaction() as session:
            presence.leave(session, me)


def _rounds(ws: Any, queue_url: str, missing: set[int]) -> None:
    with contextlib.suppress(Exception):  # the database or broker is down: next round
        reap(ws)
        found = reconcile(ws, queue_url, set(missing))
        missing.clear()
        missing.update(found)
    try:  # notifications by e-mail, where the workspace has an SMTP server
        send_pending(ws)
    except Exception:
        log.exception("mailing notifications failed; trying again next round")


def stop_with(parent: int) -> None:
    """Have this worker stopped (SIGTERM: running jobs finish or are handed back) when the
    process ``parent`` — the server that started it — ends, however it ends: the kernel is
    asked to tell us (Linux's ``PR_SET_PDEATHSIG``; no thread, so forking workers stays safe).
    Elsewhere the server stops its worker when it exits normally."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before we asked
        raise SystemExit(0)


def worker(workspace_url: str, queue_url: str, *, workers: int = 2, kind: str = "process") -> None:
    """Run a huey consumer for this workspace until stopped (``annotation-kit worker``); it
    also reaps lost jobs and re-sends lost messages on its own schedule."""
    from huey.consumer import Consumer

    serve_with(execute)
    huey, _run = engine(queue_url)
    public_url(workspace_url)  # messages name it without its password
    _system_user(workspace_url)  # fail early when the database is unreachable
    _housekeeping(workspace_url, queue_url)
    Consumer(
        huey,
        workers=workers,
        worker_type=kind,
        periodic=False,
        initial_delay=0.05,
        backoff=1.15,
        max_delay=0.5,
    ).run()
