"""QueueMonitor: the background job queue, live — counts per state, throughput, the job list
with progress, logs and errors, and (for admins) pause/resume, clear, clean-up and retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import jobs
from ..access import users
from ..access.workflow import Role
from ..errors import ValidationError
from ..work.views import when
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class

PAGE = 50


class QueueMonitorController:
    """Reads the queue and the job ledger; admin controls."""

    watched = ("state", "selected")

    def __init__(self, workspace: Workspace, queue: str | None = None) -> None:
        self.ws = workspace
        self.queue = workspace.queue_for(queue)

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Queue status, the newest jobs (of the state filter) and the selected job's details."""
        status = self.queue.status()
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            names = users.names(session)
            found = jobs.list_jobs(session, state=state["state"] or None, limit=PAGE)
            rows = [
                {
                    "id": j.id,
                    "kind": j.kind,
                    "state": j.state,
                    "progress": round(100 * (j.progress or 0)),
                    "attempts": j.attempts,
                    "owner": names.get(j.created_by, ""),
                    "created": when(j.created_at, seconds=True),
                    "finished": when(j.finished_at, seconds=True),
                    "worker": j.worker or "",
                    "error": (j.error or "").strip().splitlines()[-1:] or [""],
                    "mine": j.created_by == me.id,
                }
                for j in found
            ]
            detail: dict[str, Any] = {}
            if state["selected"]:
                try:
                    job = jobs.get(session, state["selected"])
                except Exception:  # deleted by a clean-up meanwhile
                    job = None
                if job is not None:
                    detail = {
                        "id": job.id,
                        "kind": job.kind,
                        "state": job.state,
                        "params": job.params,
                        "log": list(job.log or []),
                        "error": job.error or "",
                        "result": job.result or {},
                        "started": when(job.started_at, seconds=True),
                        "finished": when(job.finished_at, seconds=True),
                        "mine": job.created_by == me.id,
                    }
            admin = me.active and me.role == Role.ADMIN
        for row in rows:
            row["error"] = row["error"][0]
        return {"status": status, "jobs": rows, "detail": detail, "can_admin": admin}

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``pause``, ``resume``, ``clear`` (confirmed), ``clean``
        (older than ``hours``), ``retry_failed``, ``retry`` or ``cancel`` (one ``job``)."""
        action = request.get("action")
        queue = self.queue
        if action == "refresh":
            return self.refresh(state)
        if action == "pause":
            queue.pause()
            note = "queue paused: running jobs finish, no new ones start"
        elif action == "resume":
            note = f"queue resumed ({queue.resume()} job(s) sent again)"
        elif action == "clear":
            if not request.get("confirm"):
                raise ValidationError("clearing the queue needs a confirmation")
            note = f"cleared {queue.clear()} waiting or delayed job(s)"
        elif action == "clean":
            try:
                hours = float(request.get("hours", 24))
            except (TypeError, ValueError):
                raise ValidationError("give the age of the history to clean in hours") from None
            note = f"deleted {queue.clean(timedelta(hours=hours))} finished job(s)"
        elif action == "retry_failed":
            note = f"queued {queue.retry_failed()} failed job(s) again"
        elif action in ("retry", "cancel"):
            job = int(request.get("job") or 0)
            if action == "retry":
                queue.retry(job)
                note = f"job #{job} queued again"
            else:
                queue.cancel(job)
                note = f"job #{job} cancelled (a running job stops at its next progress report)"
        else:
            raise ValidationError(f"unknown request {action!r}")
        return self.refresh(state) | {"_notice": note}


SPEC = Spec(
    name="QueueMonitor",
    esm=HERE / "queue_monitor.js",
    css=HERE / "widgets.css",
    controller=QueueMonitorController,
    doc="The background job queue, live: counts, jobs with logs and errors, admin controls.",
    traits={
        "status": Trait(dict, {}, "Paused or not, counts per state, throughput last hour."),
        "jobs": Trait(list, [], "The newest jobs (of the state filter)."),
        "state": Trait(str, "", "Show only jobs in this state ('' = all)."),
        "selected": Trait(int, 0, "The job whose details are open."),
        "detail": Trait(dict, {}, "The selected job: params, log, error, result."),
        "can_admin": Trait(bool, False, "Whether this user may control the queue."),
    },
)

QueueMonitor = notebook_class(SPEC)
QueueMonitorPanel = panel_class(SPEC)
