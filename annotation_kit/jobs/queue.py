"""What a workspace sees of the queue: ``ws.queue`` (:class:`Queue`) queues jobs, watches them
and, for admins, controls the queue; :class:`JobHandle` follows one job.

Job kinds: ``export`` (:func:`annotation_kit.exports.run.export`), ``import``
(:meth:`Workspace.import_datasets`), ``check`` (data checks of datasets), ``noop`` and
``sleep`` (tests and benchmarks). ``ws.queue.enqueue(kind, **params)`` returns a
:class:`JobHandle`; ``handle.wait()`` shows a progress bar, or carry on and look later.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..access._inputs import check_call
from ..library import settings
from ..store.models import JobState
from ..store.states import FINISHED
from . import kinds, presence
from . import ledger as jobs
from .broker import default_queue, send
from .housekeeping import reap, reconcile

if TYPE_CHECKING:
    from ..workspace import Workspace


class JobHandle:
    """A queued job: ``refresh()`` reads it, ``wait()`` blocks until it is done."""

    def __init__(self, workspace: Workspace, job: int) -> None:
        self.ws, self.id = workspace, job

    def refresh(self) -> Any:
        """The job's row as stored now."""
        with self.ws.transaction(write=False) as session:
            found = jobs.get(session, self.id)
            session.expunge(found)
        return found

    @property
    def state(self) -> str:
        """The job's state as stored now."""
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
                if found.state in FINISHED:
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

    def __init__(self, workspace: Workspace, queue_url: str | None = None) -> None:
        self.ws = workspace
        self.url = queue_url or default_queue(workspace.url)

    def _send(self, ids: list[int], eta: datetime | None = None) -> None:
        send(self.url, self.ws.url, ids, eta)

    def enqueue(self, kind: str, *, eta: datetime | None = None, **params: Any) -> JobHandle:
        """Queue a job of ``kind`` with ``params`` (at ``eta`` if given); its handle."""
        params = kinds.encode(kind, params)
        with self.ws.transaction() as session:
            job = jobs.create(session, kind, params, by=self.ws.me(session), eta=eta)
            job_id, delayed = job.id, job.state == JobState.DELAYED
        self._send([job_id], eta if delayed else None)
        return JobHandle(self.ws, job_id)

    def enqueue_many(self, kind: str, params: list[dict[str, Any]]) -> list[int]:
        """Queue many jobs of one kind in one write; their ids."""
        with self.ws.transaction() as session:
            ids = jobs.create_many(session, kind, params, by=self.ws.me(session))
        self._send(ids)
        return ids

    def job(self, job: int) -> JobHandle:
        """A handle on an existing job."""
        return JobHandle(self.ws, job)

    def pause(self) -> None:
        """Pause the queue (admins): running jobs finish, no new one starts."""
        with self.ws.transaction() as session:
            jobs.pause(session, by=self.ws.me(session))

    def resume(self) -> int:
        """Resume the queue (admins); how many parked jobs were sent again."""
        with self.ws.transaction() as session:
            parked = jobs.resume(session, by=self.ws.me(session))
        self._send(parked)
        return len(parked)

    def clear(self) -> int:
        """Cancel every waiting and delayed job (admins); how many."""
        with self.ws.transaction() as session:
            return jobs.clear(session, by=self.ws.me(session))

    def clean(self, older_than: timedelta | None = None) -> int:
        """Delete completed and failed jobs older than ``older_than`` (admins; default: the
        workspace's ``job_retention_hours`` setting, 24 h unless changed); how many."""
        with self.ws.transaction() as session:
            if older_than is None:
                older_than = timedelta(hours=settings.get(session, "job_retention_hours"))
            return jobs.clean(session, older_than=older_than, by=self.ws.me(session))

    def retry_failed(self, limit: int = jobs.RETRY_BATCH) -> int:
        """Queue up to ``limit`` failed jobs again (admins); how many."""
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
        """Queue a failed or cancelled job again; its handle."""
        check_call(jobs.retry, (job,), {})
        with self.ws.transaction() as session:
            jobs.retry(session, job, by=self.ws.me(session))
        self._send([job])
        return JobHandle(self.ws, job)

    def cancel(self, job: int) -> None:
        """Cancel a job (its owner or an admin); a running one stops at its next progress report."""
        check_call(jobs.cancel, (job,), {})
        with self.ws.transaction() as session:
            jobs.cancel(session, job, by=self.ws.me(session))

    def status(self) -> dict[str, Any]:
        """Paused or not, jobs per state, throughput (lost jobs reaped first), and the
        ``workers`` heard from lately (:mod:`.presence`)."""
        reap(self.ws)
        with self.ws.transaction(write=False) as session:
            return jobs.status(session) | {"workers": presence.present(session)}

    def jobs(self, **filters: Any) -> list[Any]:
        """The ledger, newest first: ``state=``, ``kind=``, ``limit=`` (100)."""
        check_call(jobs.list_jobs, (), filters)
        with self.ws.transaction(write=False) as session:
            found = list(jobs.list_jobs(session, **filters))
            for row in found:
                session.expunge(row)
        return found
