"""Exporter: the export page — choose tasks from a filter, a format and its options, what to
include (only new, a time range, datasets, invalid marks), a release name; run it as a
background job and watch its progress; the export history with manifests, sizes and who ran
them, the diff of two exports (two releases) and re-running an export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import jobs
from ..access import users, visibility
from ..access.projects import list_projects
from ..access.workflow import Status, require_supervisor
from ..errors import ValidationError
from ..exports import exporters
from ..exports.registry import check_options, exporter
from ..exports.run import check_destination, diff, get_export, list_exports
from ..library import settings
from ..work import task_queries
from ..work.views import when
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class

TASKS_SHOWN = 200
HISTORY = 30
JOBS_SHOWN = 10
DIFF_IDS = 50
"""How many ids of each kind of change a diff shows (the counts are whole)."""


def _day(value: str, field: str, *, end: bool = False) -> datetime | None:
    """A date typed in the form: the start of that day (``end``: the start of the next), UTC."""
    if not value.strip():
        return None
    try:
        day = datetime.fromisoformat(value.strip()).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"{field} must be a date like 2026-11-23, got {value!r}") from None
    return day + timedelta(days=1) if end else day


def _ids(value: str) -> list[int] | None:
    """Dataset ids typed as ``3, 4, 9``; blank is every dataset."""
    if not value.strip():
        return None
    try:
        return [int(part) for part in value.replace(",", " ").split()]
    except ValueError:
        raise ValidationError(f"datasets must be ids like '3, 4, 9', got {value!r}") from None


def _options(value: str, format: str) -> dict[str, Any]:
    """The format's writer options typed as a JSON object (blank: none), checked against it."""
    if not value.strip():
        return {}
    try:
        found = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"options must be a JSON object: {exc.msg}") from None
    if not isinstance(found, dict):
        raise ValidationError('options must be a JSON object like {"layout": "robomimic"}')
    check_options(format, exporter(format), found)
    return found


def option_names(format: str) -> list[str]:
    """The options a format's writer takes (shown beside the options field)."""
    import inspect

    params = list(inspect.signature(exporter(format)).parameters.values())[2:]
    return [p.name for p in params if p.kind is not p.VAR_KEYWORD]


class ExporterController:
    """Reads tasks, exports and export jobs; queues exports, re-runs and diffs them."""

    watched = ("status", "project", "search", "format")

    def __init__(self, workspace: Workspace, queue: str | None = None) -> None:
        self.ws = workspace
        self.queue = workspace.queue_for(queue)
        self.fresh = True
        """The page opens on the workspace's ``export_format`` setting."""

    def _filters(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": [Status(s) for s in state["status"]] or None,
            "project": state["project"] or None,
            "search": state["search"] or None,
        }

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Tasks under the filter, the export history and my export jobs."""
        formats = exporters()
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            require_supervisor(me, "export training data")
            chosen = settings.get(session, "export_format") if self.fresh else state["format"]
            self.fresh = False
            fmt = chosen if chosen in formats else "json"
            found = task_queries.list_tasks(
                session, by=me, page_size=TASKS_SHOWN, **self._filters(state)
            )
            names = users.names(session)
            history = [
                {
                    "id": e.id,
                    "when": when(e.created_at),
                    "who": names.get(e.created_by, ""),
                    "format": e.format,
                    "destination": e.destination,
                    "status": e.status,
                    "release": e.release or "",
                    "version": e.release_version or 0,
                    "parent": e.parent_id or 0,
                    "tasks": list(e.tasks or []),
                    "size_bytes": e.size_bytes,
                    "files": len(e.files or {}),
                    "annotations": int((e.counts or {}).get("annotations", 0)),
                    "episodes": int((e.counts or {}).get("episodes", 0)),
                    "only_new": bool((e.options or {}).get("only_new")),
                    "error": (e.error or "").strip().splitlines()[-1:] or [""],
                }
                for e in list_exports(session, limit=HISTORY)
            ]
            running = [
                {
                    "id": j.id,
                    "state": j.state,
                    "progress": round(100 * (j.progress or 0)),
                    "destination": (j.params or {}).get("destination", ""),
                    "export": (j.result or {}).get("export", 0),
                    "error": (j.error or "").strip().splitlines()[-1:] or [""],
                }
                for j in jobs.list_jobs(session, kind="export", limit=50)
                if j.created_by == me.id
            ][:JOBS_SHOWN]
            projects = [p.name for p in list_projects(session)]
        for row in history + running:
            row["error"] = row["error"][0]
        return {
            "format": fmt,
            "formats": formats,
            "format_options": option_names(fmt),
            "rows": [
                {
                    "id": c.id,
                    "name": c.name,
                    "status": c.status.value,
                    "status_label": c.status.label,
                    "project": c.project or "",
                    "datasets": c.counts.datasets,
                    "annotations": c.counts.annotations,
                }
                for c in found.items
            ],
            "total": found.total,
            "history": history,
            "jobs": running,
            "projects": projects,
            "statuses": [{"value": s.value, "label": s.label} for s in Status],
        }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``select_all`` (every task matching the filter),
        ``run`` (queue the export the form describes), ``rerun`` (an ``export`` again, into
        ``destination``; ``overwrite`` to replace what is there), ``diff`` (exports ``old``
        and ``new``) or ``show`` (an ``export``'s manifest)."""
        action = request.get("action")
        if action == "refresh":
            return self.refresh(state)
        if action == "select_all":
            with self.ws.transaction(write=False) as session:
                me = self.ws.me(session)
                ids = task_queries.matching_ids(session, by=me, **self._filters(state))
            return {"selected": ids, "_notice": f"{len(ids)} tasks selected"}
        if action == "run":
            return self._run(request, state)
        if action == "rerun":
            return self._rerun(request, state)
        if action == "diff":
            return self._diff(int(request.get("old") or 0), int(request.get("new") or 0))
        if action == "show":
            return self._show(int(request.get("export") or 0))
        raise ValidationError(f"unknown request {action!r}")

    def _queue(self, tasks: list[int], fmt: str, destination: str, **options: Any) -> Any:
        """Queue an export once what can be checked before it runs is right: who asks, the
        destination (new or empty unless replacing), the tasks (each one I may see)."""
        if not destination.strip():
            raise ValidationError("give a destination folder or URL for the export")
        check_destination(self.ws, destination.strip(), overwrite=bool(options.get("overwrite")))
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            for task in tasks:
                visibility.require_task(session, task, me)
        return self.queue.enqueue(
            "export", tasks=tasks, format=fmt, destination=destination.strip(), **options
        )

    def _run(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        tasks = [int(i) for i in request.get("tasks", state["selected"])]
        if not tasks:
            raise ValidationError("select one or more tasks to export")
        fmt = str(request.get("format") or state["format"])
        if fmt not in exporters():
            raise ValidationError(
                f"unknown export format {fmt!r}; formats: {', '.join(exporters())}"
            )
        since = _day(str(request.get("since") or ""), "changed since")
        until = _day(str(request.get("until") or ""), "changed until", end=True)
        if since and until and since >= until:
            raise ValidationError("'changed since' must come before 'changed until'")
        release = str(request.get("release") or "").strip() or None
        job = self._queue(
            tasks,
            fmt,
            str(request.get("destination") or ""),
            only_new=bool(request.get("only_new")),
            any_status=bool(request.get("any_status")),
            include_invalid=bool(request.get("include_invalid")),
            skip_unfit=bool(request.get("skip_unfit")),
            datasets=_ids(str(request.get("datasets") or "")),
            changed_between=[since, until] if since or until else None,
            release=release,
            overwrite=bool(request.get("overwrite")),
            options=_options(str(request.get("options") or ""), fmt),
        )
        named = f" as release {release!r}" if release else ""
        return self.refresh(state) | {
            "_notice": f"queued export job #{job.id}: {len(tasks)} task(s) as {fmt}{named}"
        }

    def _rerun(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        with self.ws.transaction(write=False) as session:
            old = get_export(session, int(request.get("export") or 0))
            kept = dict(old.options or {})
            tasks, fmt, release = list(old.tasks or []), old.format, old.release
        between = kept.get("changed_between") or [None, None]
        job = self._queue(
            tasks,
            fmt,
            str(request.get("destination") or ""),
            only_new=bool(kept.get("only_new")),
            any_status=bool(kept.get("any_status")),
            include_invalid=bool(kept.get("include_invalid")),
            skip_unfit=bool(kept.get("skip_unfit")),
            datasets=kept.get("datasets"),
            changed_between=between if any(between) else None,
            release=release,
            overwrite=bool(request.get("overwrite")),
            options=kept.get("writer") or {},
        )
        return self.refresh(state) | {
            "_notice": f"queued export job #{job.id}: export #{old.id} again"
        }

    def _diff(self, old: int, new: int) -> dict[str, Any]:
        if not old or not new or old == new:
            raise ValidationError("choose two different exports to compare")
        with self.ws.transaction(write=False) as session:
            require_supervisor(self.ws.me(session), "read exports")
            changes = diff(session, old, new)
        return {
            "diff": {
                "old": old,
                "new": new,
                "counts": {k: len(v) for k, v in changes.items()},
                "ids": {k: v[:DIFF_IDS] for k, v in changes.items()},
            }
        }

    def _show(self, export_id: int) -> dict[str, Any]:
        with self.ws.transaction(write=False) as session:
            require_supervisor(self.ws.me(session), "read exports")
            found = get_export(session, export_id)
            shown = {
                "id": found.id,
                "destination": found.destination,
                "options": found.options or {},
                "counts": found.counts or {},
                "cleaned": list(found.cleaned or []),
                "files": sorted((found.files or {}).items()),
                "error": found.error or "",
            }
        return {"shown": shown}


SPEC = Spec(
    name="Exporter",
    esm=HERE / "exporter.js",
    css=HERE / "widgets.css",
    controller=ExporterController,
    doc="The export page: tasks, format, what to include, release; history, diff, re-run.",
    traits={
        "status": Trait(list, ["review_passed"], "Statuses of the tasks listed; empty lists all."),
        "project": Trait(str, "", "Only tasks of this project ('' = any)."),
        "search": Trait(str, "", "Text searched in task names and descriptions."),
        "selected": Trait(list, [], "Ids of the tasks to export."),
        "format": Trait(str, "json", "Export format (json, csv, mcap, hdf5, lerobot or a plugin)."),
        "formats": Trait(list, [], "Formats on offer."),
        "format_options": Trait(list, [], "The options the chosen format's writer takes."),
        "rows": Trait(list, [], "Tasks matching the filter (the first 200)."),
        "total": Trait(int, 0, "Tasks matching the filter."),
        "history": Trait(list, [], "Exports, newest first, with who ran them, sizes and counts."),
        "jobs": Trait(list, [], "My export jobs, newest first, with their progress."),
        "projects": Trait(list, [], "Project names (filter choices)."),
        "statuses": Trait(list, [], "Statuses in workflow order with labels."),
        "diff": Trait(dict, {}, "The last diff: counts and the first ids of each change."),
        "shown": Trait(dict, {}, "The manifest of the export last opened."),
    },
)

Exporter = notebook_class(SPEC)
ExporterPanel = panel_class(SPEC)
