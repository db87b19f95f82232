"""Background jobs on huey: the queue carries job ids, the ledger (:mod:`annotation_kit.jobs`)
holds the rest.

The queue is an SQLite file beside the workspace (``queue.db``; the embedded default) or Redis
for a team (``ANNOTATION_KIT_QUEUE=redis://127.0.0.1:6379/0``); the same code runs on both.
Workers start with ``annotation-kit worker`` on any machine that reaches the database and the
broker. A job runs as the user who queued it, so the library checks its permissions as for a
call made in a notebook.

Job kinds: ``export`` (:func:`annotation_kit.exports.run.export`), ``import``
(:meth:`Workspace.import_datasets`), ``check`` (data checks of datasets), ``noop`` and
``sleep`` (tests and benchmarks). ``ws.queue.enqueue(kind, **params)`` returns a
:class:`JobHandle`; ``handle.wait()`` shows a progress bar, or carry on and look later.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import events, jobs
from ._inputs import check_call
from .errors import AnnotationKitError, ValidationError

QUEUE_ENV = "ANNOTATION_KIT_QUEUE"
HEARTBEAT_S = float(os.environ.get("ANNOTATION_KIT_HEARTBEAT", "5"))
NAME = "annotation_kit"


class Cancelled(AnnotationKitError):
    """The job was cancelled while it ran."""


# ----- job kinds ------------------------------------------------------------------------------


class Context:
    """What a running job may tell the ledger: progress and log lines (and learn it was
    cancelled: :meth:`progress` raises :class:`Cancelled`)."""

    def __init__(self, workspace: Any, job: int):
        self.ws, self.job = workspace, job

    def progress(self, fraction: float | None = None, line: str | None = None) -> None:
        with self.ws.transaction() as session:
            stop = jobs.beat(session, self.job, progress=fraction, line=line)
        if stop:
            raise Cancelled(f"job #{self.job} was cancelled")

    def log(self, line: str) -> None:
        self.progress(None, line)


def _export(ws: Any, ctx: Context, **params: Any) -> dict[str, Any]:
    ctx.log(f"export of task(s) {params.get('tasks')} as {params.get('format')}")
    changed = params.pop("changed_between", None)
    if changed:
        params["changed_between"] = tuple(datetime.fromisoformat(v) if v else None for v in changed)
    record = ws.export(progress=ctx.progress, job=ctx.job, **params)
    return {"export": record.id, "counts": record.counts, "destination": record.destination}


def _import(ws: Any, ctx: Context, *, sources: list[str], **options: Any) -> dict[str, Any]:
    ctx.log(f"import of {len(sources)} source(s)")
    report = ws.import_datasets(sources, progress=False, **options)
    return {"dataset_ids": list(report.dataset_ids), "failed": [str(f) for f in report.failed]}


def _check(
    ws: Any, ctx: Context, *, datasets: list[int] | None = None, project: Any = None
) -> dict[str, Any]:
    ctx.log("data checks of " + (f"{len(datasets)} dataset(s)" if datasets else f"{project}"))
    outcome = ws.checks.run(datasets, project=project)
    return {"status": {str(k): v for k, v in outcome.items()}}


def _noop(ws: Any, ctx: Context, **params: Any) -> dict[str, Any]:
    return {}


def _sleep(
    ws: Any, ctx: Context, *, seconds: float = 1.0, fail: bool = False, quiet: bool = False
) -> dict[str, Any]:
    steps = max(1, int(seconds / 0.1))
    for i in range(steps):
        time.sleep(seconds / steps)
        if i % 5 == 0 and not quiet:
            ctx.progress((i + 1) / steps)
    if fail:
        raise RuntimeError("asked to fail")
    return {"slept": seconds}


_KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "export": _export,
    "import": _import,
    "check": _check,
    "noop": _noop,
    "sleep": _sleep,
}


def kinds() -> dict[str, Callable[..., dict[str, Any]]]:
    return dict(_KINDS)


# ----- the engine -----------------------------------------------------------------------------


def default_queue(workspace_url: str) -> str:
    """``$ANNOTATION_KIT_QUEUE``, else ``queue.db`` beside an SQLite workspace (or in the user
    data folder for a PostgreSQL one)."""
    if url := os.environ.get(QUEUE_ENV):
        return url
    if workspace_url.startswith("sqlite:///"):
        folder = Path(workspace_url.removeprefix("sqlite:///")).parent
    else:
        import platformdirs

        folder = Path(platformdirs.user_data_dir("annotation-kit"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'queue.db'}"


def _storages() -> tuple[type, type]:
    """huey's SQLite and Redis storages, each with a bulk ``enqueue_many``: huey enqueues one
    message per transaction (SQLite) or round trip (Redis); batches of jobs (``enqueue_many``,
    resume, batch retry) go in one. Same tables and keys as huey's own ``enqueue``."""
    from huey.storage import RedisStorage, SqliteStorage

    class Sqlite(SqliteStorage):
        def enqueue_many(self, messages: list[bytes]) -> None:
            with self.db(commit=True) as cursor:
                cursor.executemany(
                    "insert into task (queue, data, priority) values (?, ?, ?)",
                    [(self.name, self.to_blob(m), 0) for m in messages],
                )

    class Redis(RedisStorage):
        def enqueue_many(self, messages: list[bytes]) -> None:
            for start in range(0, len(messages), 1000):
                self.conn.lpush(self.queue_key, *messages[start : start + 1000])

    return Sqlite, Redis


def _transport() -> type:
    """huey as the transport of job ids. Cancelling a job is the ledger's business (its claim
    then fails), so huey's own revocation is left out: it costs a read and a delete on the
    broker for every message (on the SQLite queue, the delete is a write transaction)."""
    from huey import Huey

    class Transport(Huey):
        def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
            return False

        def delete(self, key: str) -> bool:  # called only to clear revocation flags here
            return False

    return Transport


@functools.cache
def engine(queue_url: str) -> tuple[Any, Any]:
    """The huey instance of ``queue_url`` and its one task, ``run(job_id, workspace_url)``."""
    Huey = _transport()  # noqa: N806
    sqlite, redis = _storages()
    if queue_url.startswith("redis://"):
        huey = Huey(NAME, storage_class=redis, url=queue_url, results=False)
    elif queue_url.startswith("sqlite:///"):
        filename = queue_url.removeprefix("sqlite:///")
        huey = Huey(NAME, storage_class=sqlite, filename=filename, results=False)
    else:
        raise ValidationError(
            f"queue URL must be sqlite:///<file> or redis://..., got {queue_url!r}"
        )

    @huey.task(name="annotation_kit.run")
    def run(job: int, workspace_url: str) -> None:
        execute(job, _resolve(workspace_url), queue_url)

    return huey, run


_OWN_URLS: dict[str, str] = {}
"""The workspace URLs this process was given, by the form messages carry (no password)."""


def public_url(workspace_url: str) -> str:
    """``workspace_url`` with its password hidden: what a queue message carries. A worker
    finds the full URL in its own configuration (``--url`` / ``$ANNOTATION_KIT_URL``)."""
    from sqlalchemy import make_url

    from .database import normalise

    try:
        workspace_url = normalise(workspace_url)
        shown = make_url(workspace_url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: nothing to hide in it
        return workspace_url
    _OWN_URLS[shown] = workspace_url
    return shown


def _resolve(sent: str) -> str:
    if sent in _OWN_URLS:
        return _OWN_URLS[sent]
    if "***" in sent:
        raise ValidationError(
            f"this worker has no credentials for {sent}: start a worker for that workspace "
            "with its URL (annotation-kit worker --url ... or $ANNOTATION_KIT_URL)"
        )
    return sent  # a URL without a password (an SQLite file, trust auth): open it as it is


def execute(job: int, workspace_url: str, queue_url: str) -> str:
    """Claim and run one job in this process (what a worker does with each message)."""
    ledger = _ledger(workspace_url)
    outcome, found = ledger.claim(job, jobs.worker_name())
    if found is None:
        return outcome
    ws = _workspace(workspace_url, ledger.owner(found["owner"]))
    running = (ledger, job)
    _RUNNING.add(running)
    _heartbeat()
    try:
        result = _KINDS[found["kind"]](ws, Context(ws, job), **found["params"])
    except Cancelled:
        ledger.finish(job, cancelled=True)
        return "cancelled"
    except BaseException:
        ledger.finish(job, error=traceback.format_exc())
        return "failed"
    finally:
        _RUNNING.discard(running)
    ledger.finish(job, result=result)
    return "completed"


_RUNNING: set[tuple[jobs.Ledger, int]] = set()
"""The jobs running in this process, with their workspace's ledger (for the heartbeat)."""
_BEATING = threading.Lock()


def _heartbeat() -> None:
    """Start this process's heartbeat thread (once): every ``HEARTBEAT_S`` it tells each
    ledger that its running jobs are alive, in one statement."""
    if _BEATING.acquire(blocking=False):

        def beat() -> None:
            while True:
                time.sleep(HEARTBEAT_S)
                by_ledger: dict[jobs.Ledger, list[int]] = {}
                for ledger, job in list(_RUNNING):
                    by_ledger.setdefault(ledger, []).append(job)
                for ledger, ids in by_ledger.items():
                    # On an error the next beat tries again (reap waits 30 s).
                    with contextlib.suppress(Exception):
                        ledger.beat(ids)

        threading.Thread(target=beat, name="annotation_kit-heartbeat", daemon=True).start()


@functools.cache
def _ledger(workspace_url: str) -> jobs.Ledger:
    return jobs.Ledger(_workspace(workspace_url, None).db.engine)


@functools.lru_cache(maxsize=64)
def _workspace(workspace_url: str, user: str | None) -> Any:
    """The workspace of this worker process, as ``user`` (None: for reading the ledger); one
    database connection pool per process, whatever the number of jobs."""
    from .workspace import Workspace, connect

    if user is None:
        return connect(workspace_url, user=_system_user(workspace_url))
    return Workspace(_workspace(workspace_url, None).db, user)


@functools.cache
def _system_user(workspace_url: str) -> str:
    """A user to read the ledger as (the workers act for nobody: each job runs as its owner)."""
    from sqlalchemy import select

    from .database import Database
    from .models import User

    database = Database.open(workspace_url)
    with database.transaction(write=False) as session:
        name = session.scalar(select(User.name).order_by(User.id).limit(1))
    if name is None:
        raise ValidationError("the workspace has no users yet")
    return name


def send(queue_url: str, workspace_url: str, ids: list[int], eta: datetime | None = None) -> None:
    """Hand job ids to the workers (many in one write to the broker); messages carry the
    workspace URL without its password."""
    huey, run = engine(queue_url)
    workspace_url = public_url(workspace_url)
    if eta is not None:
        for job in ids:
            run.schedule(args=(job, workspace_url), eta=eta)
    elif len(ids) == 1:
        run(ids[0], workspace_url)
    elif ids:
        huey.storage.enqueue_many([huey.serialize_task(run.s(job, workspace_url)) for job in ids])


def reap(ws: Any) -> list[int]:
    """Fail the running jobs whose worker died, and the exports they were writing (their
    staging folders removed). Returns the job ids."""
    from .exports.run import abandon

    with ws.transaction() as session:
        lost = jobs.reap_ids(session)
        abandon(session, lost, "the worker running this export was killed or lost")
    return lost


def reconcile(ws: Any, queue_url: str, missing_before: set[int] | None = None) -> set[int]:
    """Send again the waiting jobs the broker holds no message for. With ``missing_before``
    (the worker's schedule) a job is sent only when it was missing at the previous call too
    (a worker may be between taking a message and claiming its job), and the ids missing now
    are returned for the next call; without it every missing job is sent (a duplicate message
    is harmless: a job is claimed once)."""
    from sqlalchemy import select

    from .models import Job

    huey, _run = engine(queue_url)
    queued = _queued_ids(huey)
    with ws.transaction(write=False) as session:
        waiting = set(
            session.scalars(select(Job.id).where(Job.state == "waiting", Job.parked.is_(False)))
        )
    missing = waiting - queued - _queued_ids(huey)
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


def _queued_ids(huey: Any) -> set[int]:
    found = set()
    for message in huey.storage.enqueued_items():
        with contextlib.suppress(Exception):  # another application's message
            found.add(int(huey.deserialize_task(message).args[0]))
    return found


def _housekeeping(workspace_url: str, queue_url: str) -> None:
    """The worker's own schedule: reap lost jobs and re-send jobs whose message is gone."""
    every = max(1.0, jobs.LOST_AFTER.total_seconds() / 3)

    def loop() -> None:
        ws = _workspace(workspace_url, None)
        missing: set[int] = set()
        while True:
            time.sleep(every)
            with contextlib.suppress(Exception):  # the database or broker is down: next round
                reap(ws)
                missing = reconcile(ws, queue_url, missing)

    threading.Thread(target=loop, name="annotation_kit-housekeeping", daemon=True).start()


def worker(workspace_url: str, queue_url: str, *, workers: int = 2, kind: str = "process") -> None:
    """Run a huey consumer for this workspace until stopped (``annotation-kit worker``); it
    also reaps lost jobs and re-sends lost messages on its own schedule."""
    from huey.consumer import Consumer

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


# ----- the workspace's view -------------------------------------------------------------------


class JobHandle:
    """A queued job: ``refresh()`` reads it, ``wait()`` blocks until it is done."""

    def __init__(self, workspace: Any, job: int):
        self.ws, self.id = workspace, job

    def refresh(self) -> Any:
        with self.ws.transaction(write=False) as session:
            found = jobs.get(session, self.id)
            session.expunge(found)
        return found

    @property
    def state(self) -> str:
        return self.refresh().state

    def wait(self, *, timeout: float | None = None, progress: bool = True) -> Any:
        """Wait for the job to finish (a progress bar in notebooks); returns the job row."""
        from tqdm.auto import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        bar = tqdm(total=100, desc=f"job #{self.id}", disable=not progress)
        try:
            while True:
                found = self.refresh()
                bar.n = round(100 * (found.progress or 0))
                bar.set_postfix_str(found.state)
                if found.state in jobs.FINISHED:
                    return found
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"job #{self.id} is still {found.state}")
                time.sleep(0.2)
        finally:
            bar.close()

    def __repr__(self) -> str:
        return f"<JobHandle #{self.id}>"


class Queue:
    """``ws.queue``: queue jobs, watch them and, as an admin, control the queue."""

    def __init__(self, workspace: Any, queue_url: str | None = None):
        self.ws = workspace
        self.url = queue_url or default_queue(workspace.url)

    def _send(self, ids: list[int], eta: datetime | None = None) -> None:
        send(self.url, self.ws.url, ids, eta)

    def enqueue(self, kind: str, *, eta: datetime | None = None, **params: Any) -> JobHandle:
        with self.ws.transaction() as session:
            job = jobs.create(session, kind, params, by=self.ws.me(session), eta=eta)
            job_id, delayed = job.id, job.state == "delayed"
        self._send([job_id], eta if delayed else None)
        return JobHandle(self.ws, job_id)

    def enqueue_many(self, kind: str, params: list[dict[str, Any]]) -> list[int]:
        with self.ws.transaction() as session:
            ids = jobs.create_many(session, kind, params, by=self.ws.me(session))
        self._send(ids)
        return ids

    def job(self, job: int) -> JobHandle:
        return JobHandle(self.ws, job)

    def pause(self) -> None:
        with self.ws.transaction() as session:
            jobs.pause(session, by=self.ws.me(session))

    def resume(self) -> int:
        with self.ws.transaction() as session:
            parked = jobs.resume(session, by=self.ws.me(session))
        self._send(parked)
        return len(parked)

    def clear(self) -> int:
        with self.ws.transaction() as session:
            return jobs.clear(session, by=self.ws.me(session))

    def clean(self, older_than: timedelta = timedelta(hours=24)) -> int:
        with self.ws.transaction() as session:
            return jobs.clean(session, older_than=older_than, by=self.ws.me(session))

    def retry_failed(self, limit: int = jobs.RETRY_BATCH) -> int:
        check_call(jobs.retry_failed, (), {"limit": limit})
        with self.ws.transaction() as session:
            ids = jobs.retry_failed(session, limit=limit, by=self.ws.me(session))
        self._send(ids)
        return len(ids)

    def reconcile(self) -> int:
        """Send again every waiting job the broker has no message for (workers do this on
        their own schedule, twice-checked); returns how many were sent."""
        with self.ws.transaction(write=False) as session:
            jobs.require_admin(self.ws.me(session), "reconcile the queue")
        return len(reconcile(self.ws, self.url))

    def retry(self, job: int) -> JobHandle:
        check_call(jobs.retry, (job,), {})
        with self.ws.transaction() as session:
            jobs.retry(session, job, by=self.ws.me(session))
        self._send([job])
        return JobHandle(self.ws, job)

    def cancel(self, job: int) -> None:
        check_call(jobs.cancel, (job,), {})
        with self.ws.transaction() as session:
            jobs.cancel(session, job, by=self.ws.me(session))

    def status(self) -> dict[str, Any]:
        reap(self.ws)
        with self.ws.transaction(write=False) as session:
            return jobs.status(session)

    def jobs(self, **filters: Any) -> list[Any]:
        """The ledger, newest first: ``state=``, ``kind=``, ``limit=`` (100)."""
        check_call(jobs.list_jobs, (), filters)
        with self.ws.transaction(write=False) as session:
            found = list(jobs.list_jobs(session, **filters))
            for row in found:
                session.expunge(row)
        return found
