"""DataBrowser: filter datasets, select many, and create an annotation task from them; browse a
storage connection and import from it (collectors, managers and admins)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from ..access import _text, users
from ..access.projects import list_projects
from ..access.workflow import Role, is_supervisor
from ..data import dataset_queries
from ..errors import ValidationError
from ..library import storage
from ..quality import workload
from ..work import tasks
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class

FILTERS = (
    "search",
    "project",
    "tag",
    "robot",
    "format",
    "min_s",
    "max_s",
    "since",
    "qc_status",
    "assignment",
)


def _number(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{name} must be a number of seconds, got {value!r}") from None


def _date(value: str, name: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"{name} must be a date like 2026-11-23, got {value!r}") from None


class DataBrowserController:
    """Filters and pages datasets; creates a task from the selection."""

    watched = (*FILTERS, "page", "page_size")

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def _filters(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "search": state["search"] or None,
            "project": state["project"] or None,
            "tag": state["tag"] or None,
            "robot": state["robot"] or None,
            "format": state["format"] or None,
            "min_duration_s": _number(state["min_s"], "minimum duration"),
            "max_duration_s": _number(state["max_s"], "maximum duration"),
            "since": _date(state["since"], "uploaded since"),
            "qc_status": state["qc_status"] or None,
            "assignment": state["assignment"] or None,
        }

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """The page of datasets under the filters, facets, people and projects."""
        filters = self._filters(state)
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            found = dataset_queries.list_datasets(
                session,
                by=me,
                page=max(1, state["page"]),
                page_size=state["page_size"],
                **filters,
            )
            facets = dataset_queries.facets(session, by=me)
            active = [u for u in users.list_users(session) if u.active and u.role != "visitor"]
            people = [u.name for u in active]
            roles = {u.name: str(u.role) for u in active}
            projects = [p.name for p in list_projects(session, by=me)]
            manager = is_supervisor(me)
            registrar = me.active and me.role in (Role.ADMIN, Role.MANAGER, Role.COLLECTOR)
            connections = (
                [c.name for c in storage.list_connections(session, by=me)] if registrar else []
            )
            candidates = [u.name for u in active if u.role == "annotator"]
            loads = (
                {item.name: item.as_json() for item in workload.load(session, candidates, by=me)}
                if manager and candidates
                else {}
            )
        return {
            "rows": [
                {
                    "id": r.id,
                    "name": r.name,
                    "format": r.format,
                    "duration_s": r.duration_s,
                    "cameras": r.cameras,
                    "robot": r.robot,
                    "tags": r.tags,
                    "qc_status": r.qc_status,
                    "project": r.project or "",
                    "uploaded": r.created_at.date().isoformat(),
                    "active_tasks": r.active_tasks,
                }
                for r in found.items
            ],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
            "facets": facets,
            "people": people,
            "roles": roles,
            "projects": projects,
            "can_create": manager,
            "loads": loads,
            "connections": connections,
        }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``select_all`` (every match), ``check`` (selected
        datasets already in active tasks), ``create`` (a task from the selection), ``balance``
        (a proposal spreading the selection over ``annotators`` by their load) or
        ``create_balanced`` (a task per annotator of the confirmed ``plan``)."""
        action = request.get("action")
        if action == "refresh":
            return self.refresh(state)
        if action == "select_all":
            with self.ws.transaction(write=False) as session:
                me = self.ws.me(session)
                ids = dataset_queries.matching_ids(session, by=me, **self._filters(state))
            return {"selected": ids, "_notice": f"{len(ids)} datasets selected"}
        if action == "browse":
            where = str(request.get("connection") or ""), str(request.get("path") or "")
            return self._browse(*where)
        if action == "import":
            return self._import(request, state)
        ids = [int(i) for i in request.get("ids", state["selected"])]
        if not ids:
            raise ValidationError("select one or more datasets first")
        if action == "check":
            with self.ws.transaction(write=False) as session:
                busy = tasks.active_tasks_for(session, ids)
            return {
                "busy": [
                    f"#{d}: in " + ", ".join(f"'{t.name}' ({t.status.label})" for t in found)
                    for d, found in sorted(busy.items())
                ],
                "proposal": {},  # a form opened afresh proposes nothing yet
            }
        if action == "balance":  # a proposal only: the manager confirms with create_balanced
            with self.ws.transaction(write=False) as session:
                plan = workload.balance(
                    session, ids, list(request.get("annotators") or []), by=self.ws.me(session)
                )
            return {
                "proposal": plan,
                "_notice": "proposed: "
                + "; ".join(f"{name} {len(chosen)} dataset(s)" for name, chosen in plan.items()),
            }
        if action == "create_balanced":
            return self._create_balanced(request, state, ids)
        if action == "create":
            return self._create(request, state, ids)
        raise ValidationError(f"unknown request {action!r}")

    def _create_balanced(
        self, request: dict[str, Any], state: dict[str, Any], ids: list[int]
    ) -> dict[str, Any]:
        """A task per annotator of the confirmed ``plan``, each with their share of ``ids``."""
        plan = {str(k): [int(i) for i in v] for k, v in (request.get("plan") or {}).items()}
        if not any(plan.values()):
            raise ValidationError("balance the selection across annotators first")
        if unplanned := sorted(set(ids) - {i for chosen in plan.values() for i in chosen}):
            raise ValidationError(f"the proposal leaves out dataset(s) {unplanned}: balance again")
        deadline = _date(request.get("deadline") or "", "deadline")
        base = _text.name(request.get("name", ""), "task name")
        made = []
        with self.ws.transaction() as session, warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            me = self.ws.me(session)
            for annotator, chosen in plan.items():
                if chosen:
                    made.append(
                        tasks.create(
                            session,
                            f"{base} ({annotator})",
                            datasets=chosen,
                            description=request.get("description", ""),
                            annotators=[annotator],
                            reviewers=request.get("reviewers") or [],
                            project=request.get("project") or None,
                            deadline=deadline.replace(hour=23, minute=59) if deadline else None,
                            by=me,
                        ).id
                    )
        return self.refresh(state) | {
            "selected": [],
            "proposal": {},
            "created": made[-1],
            "busy": [],
            "_notice": f"created {len(made)} task(s), one per annotator: "
            + ", ".join(f"#{i}" for i in made),
        }

    def _create(
        self, request: dict[str, Any], state: dict[str, Any], ids: list[int]
    ) -> dict[str, Any]:
        """A task of the selected datasets (``ids``); warnings (datasets in active tasks) told."""
        deadline = _date(request.get("deadline") or "", "deadline")
        with self.ws.transaction() as session, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            task = tasks.create(
                session,
                request.get("name", ""),
                datasets=ids,
                description=request.get("description", ""),
                annotators=request.get("annotators") or [],
                reviewers=request.get("reviewers") or [],
                project=request.get("project") or None,
                deadline=deadline.replace(hour=23, minute=59) if deadline else None,
                allow_reassign=bool(request.get("allow_reassign", True)),
                by=self.ws.me(session),
            )
        note = f"created task '{task.name}' (#{task.id}) with {len(ids)} dataset(s)"
        if seen:
            note += "; note: " + "; ".join(str(w.message) for w in seen)
        return self.refresh(state) | {
            "selected": [],
            "created": task.id,
            "busy": [],
            "_notice": note,
        }

    def _browse(self, connection: str, path: str) -> dict[str, Any]:
        """A folder of a storage connection: its folders and files."""
        if not connection:
            raise ValidationError("choose a storage connection")
        entries = self.ws.storage.browse(connection, path)
        return {
            "browsing": {
                "connection": connection,
                "path": path.strip("/"),
                "entries": [
                    {"url": e.url, "name": e.name, "folder": e.folder, "size": e.size}
                    for e in entries
                ],
            }
        }

    def _import(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """Import the chosen files and folders of a connection (``urls``), as this person."""
        urls = [str(u) for u in request.get("urls") or []]
        if not urls:
            raise ValidationError("tick the files or folders to import first")
        if bad := [u for u in urls if not u.startswith(storage.SCHEME)]:
            raise ValidationError(f"only storage connections are imported from here, not {bad[0]}")
        report = self.ws.import_datasets(
            urls, project=request.get("project") or None, progress=False
        )
        note = f"imported {len(report.dataset_ids)} dataset(s) from {len(urls)} source(s)"
        if report.failed:
            note += "; refused: " + "; ".join(f.error or "" for f in report.failed)[:400]
        return self.refresh(state) | {"_notice": note}


SPEC = Spec(
    name="DataBrowser",
    esm=HERE / "data_browser.js",
    css=HERE / "widgets.css",
    controller=DataBrowserController,
    doc="Filter datasets, select many, create an annotation task from them.",
    traits={
        "search": Trait(str, "", "Text in the dataset name or source URI."),
        "project": Trait(str, "", "Only this project ('' = any)."),
        "tag": Trait(str, "", "Only datasets with this tag."),
        "robot": Trait(str, "", "Only this robot."),
        "format": Trait(str, "", "Only this format (mcap, hdf5-aloha, lerobot-v3.0...)."),
        "min_s": Trait(str, "", "Minimum duration in seconds ('' = none)."),
        "max_s": Trait(str, "", "Maximum duration in seconds ('' = none)."),
        "since": Trait(str, "", "Uploaded on or after this date (YYYY-MM-DD)."),
        "qc_status": Trait(str, "", "Data-check status (pass, warning, error, ...)."),
        "assignment": Trait(str, "", "unassigned, assigned, annotated or not_annotated."),
        "page": Trait(int, 1, "Page (from 1)."),
        "page_size": Trait(int, 25, "Rows per page."),
        "rows": Trait(list, [], "The current page of datasets."),
        "total": Trait(int, 0, "Datasets matching the filters."),
        "pages": Trait(int, 1, "Pages."),
        "selected": Trait(list, [], "Selected dataset ids; kept across pages and filters."),
        "busy": Trait(list, [], "Selected datasets already in active tasks (warnings)."),
        "created": Trait(int, 0, "Id of the task created last (0 = none)."),
        "facets": Trait(dict, {}, "Filter choices: formats, robots, tags."),
        "people": Trait(list, [], "Users who can be assigned."),
        "roles": Trait(dict, {}, "Each assignable user's role (who is offered for which duty)."),
        "projects": Trait(list, [], "Project names."),
        "can_create": Trait(bool, False, "Whether this user may create tasks."),
        "loads": Trait(dict, {}, "Each annotator's open work and pace (for managers)."),
        "proposal": Trait(dict, {}, "A balance of the selection: annotator -> dataset ids."),
        "connections": Trait(list, [], "Storage connections this user may import from."),
        "browsing": Trait(dict, {}, "The connection folder shown: {connection, path, entries}."),
    },
)

DataBrowser = notebook_class(SPEC)
DataBrowserPanel = panel_class(SPEC)
