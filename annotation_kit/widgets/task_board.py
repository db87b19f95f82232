"""TaskBoard: tasks as a board (a column per status) or a sortable list, with filters,
selection that survives page changes, batch delete and batch reassign."""

from __future__ import annotations

from typing import Any

from ..access import users
from ..access.workflow import ACTIVE, Status, is_supervisor
from ..errors import ValidationError
from ..quality import workload
from ..work import notifications, task_queries, tasks
from ..work.mail import smtp_settings
from ..work.task_queries import TaskCard
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class
from .task_detail import deadline_of

CARDS_PER_COLUMN = 20
NO_PROJECT = "(no project)"
"""What the batch edit's project choice sends to take the selected tasks out of any project."""


def card_json(card: TaskCard) -> dict[str, Any]:
    """What the browser gets for one task; text is shown as text, never as HTML."""
    return {
        "id": card.id,
        "name": card.name,
        "description": card.description,
        "status": card.status.value,
        "status_label": card.status.label,
        "project": card.project or "",
        "annotators": card.annotators,
        "reviewers": card.reviewers,
        "creator": card.creator,
        "open_issues": card.open_issues,
        "deadline": card.deadline.date().isoformat() if card.deadline else "",
        "datasets": card.counts.datasets,
        "annotated": card.counts.annotated,
        "annotations": card.counts.annotations,
        "completion": round(100 * card.completion),
        "version": card.version,
    }


ANNOTATOR_NEWS = ("rejected", "annotation_rejected", "annotation_passed", "consensus")
"""Notifications that open the annotator at their place (a reviewer's comment...)."""
REVIEWER_NEWS = ("submitted",)


def anchor_of(request: dict[str, Any]) -> dict[str, Any]:
    """Where a notification clicked in the bell leads: its task, and for news of annotations
    the episode and time it is anchored to, in the annotator (or for a submit the review
    form); {} for a notification of no task."""
    if not request.get("task"):
        return {}
    kind = str(request.get("kind") or "")
    mode = "annotate" if kind in ANNOTATOR_NEWS else "review" if kind in REVIEWER_NEWS else ""
    if kind.startswith("feedback") and request.get("dataset"):
        mode = "annotate"  # an issue on an episode: look at the place it names
    return {
        "task": int(request["task"]),
        "dataset": int(request.get("dataset") or 0),
        "start_ns": int(request.get("start_ns") or 0),
        "mode": mode if (mode == "review" or request.get("dataset")) else "",
    }


def person_json(found: workload.Person) -> dict[str, Any]:
    """What the browser gets for a person's page."""
    return {
        "name": found.name,
        "display_name": found.display_name,
        "role": found.role,
        "active": found.active,
        "load": found.load.as_json(),
        "tasks": [card_json(c) for c in found.tasks],
        "activity": [
            {
                "at": a.at.strftime("%Y-%m-%d %H:%M"),
                "action": a.action,
                "object_type": a.object_type,
                "object_id": a.object_id,
                "change": a.change,
                "note": a.note,
            }
            for a in found.activity
        ],
    }


LISTED = ("status", "project", "assignee", "search", "sort", "page", "page_size")
"""What the list and board are read for (echoed in ``listed``: the browser knows when the rows
it shows are those it asked for)."""


class TaskBoardController:
    """Lists tasks as a board or pages; selects, deletes and reassigns."""

    watched = ("view", *LISTED)

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.fresh = True

    def _filters(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "project": state["project"] or None,
            "assignee": state["assignee"] or None,
            "search": state["search"] or None,
        }

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Counts, board columns and the list page under the filters. An annotator's or a
        reviewer's board opens on their own tasks; what else they may see is the library's
        choice (:mod:`annotation_kit.access.visibility`), whatever the filter says."""
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            mine = {}
            if self.fresh and not state["assignee"] and not is_supervisor(me):
                mine = {"assignee": me.name}
            self.fresh = False
            state = state | mine
            filters = self._filters(state)
            status = [Status(s) for s in state["status"]] or None
            board = task_queries.board(session, by=me, per_status=CARDS_PER_COLUMN, **filters)
            page = task_queries.list_tasks(
                session,
                by=me,
                status=status,
                sort=state["sort"],
                page=max(1, state["page"]),
                page_size=state["page_size"],
                **filters,
            )
            if page.items == [] and page.page > 1 and page.total:
                page = task_queries.list_tasks(
                    session,
                    by=me,
                    status=status,
                    sort=state["sort"],
                    page=page.pages,
                    page_size=state["page_size"],
                    **filters,
                )
            people = [u.name for u in users.list_users(session) if u.active]
            from ..access.projects import list_projects

            projects = [p.name for p in list_projects(session, by=me)]
            manager = is_supervisor(me)
            annotators = [
                u.name for u in users.list_users(session) if u.active and u.role == "annotator"
            ]
            loads = (
                {item.name: item.as_json() for item in workload.load(session, annotators, by=me)}
                if manager and annotators
                else {}
            )
            told = notifications.list_notifications(session, limit=20, by=me)
            unread = notifications.unread_count(session, by=me)
            notify = notifications.preferences(session, by=me) | {
                "kinds": list(notifications.KINDS),
                "can_email": bool(me.email) and smtp_settings() is not None,
            }
        shown = set(state["status"]) or {s.value for s in Status}
        return mine | {
            "counts": {s.value: n for s, n in board.counts.items()},
            "columns": {
                s.value: [card_json(c) for c in board.columns[s]]
                for s in Status
                if s.value in shown
            },
            "rows": [card_json(c) for c in page.items],
            "listed": {k: state[k] for k in LISTED},
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "people": people,
            "projects": projects,
            "can_manage": manager,
            "notifications": [n.as_json() for n in told],
            "unread": unread,
            "notify": notify,
            "loads": loads,
            "statuses": [
                {"value": s.value, "label": s.label, "active": s in ACTIVE} for s in Status
            ],
        }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``select_all``, ``open`` (a task), ``person`` (the
        page of ``name``: tasks, load, recent activity), ``read`` (a
        ``notification``, opening its ``task``; without one, all), ``notify`` (my ``muted``
        kinds and ``email``), ``delete`` (confirmed),
        ``reassign`` (annotators and/or reviewers) or ``edit`` (``deadline``,
        ``clear_deadline``, ``project``, ``description``) of the selected tasks."""
        action = request.get("action")
        ids = [int(i) for i in request.get("ids", state["selected"])]
        if action == "refresh":
            return self.refresh(state)
        if action == "select_all":
            with self.ws.transaction(write=False) as session:
                me, status = self.ws.me(session), state["status"] or None
                found = task_queries.matching_ids(
                    session, by=me, status=status, **self._filters(state)
                )
            return {"selected": found, "_notice": f"{len(found)} tasks selected"}
        if action == "open":
            return {"opened": int(request["task"])}
        if action == "person":  # a name clicked: that person's page
            with self.ws.transaction(write=False) as session:
                found = workload.person(
                    session, str(request.get("name") or ""), by=self.ws.me(session)
                )
            return {"profile": person_json(found)}
        if action == "read":  # one notification (opening its task), or all of them
            notice = request.get("notification")
            with self.ws.transaction() as session:
                notifications.mark_read(
                    session, None if notice is None else [int(notice)], by=self.ws.me(session)
                )
            opened = {"opened": int(request["task"])} if request.get("task") else {}
            return self.refresh(state) | opened | {"anchor": anchor_of(request)}
        if action == "notify":  # my notification preferences
            with self.ws.transaction() as session:
                notifications.set_preferences(
                    session,
                    muted=[str(k) for k in request.get("muted", [])],
                    email=bool(request.get("email")),
                    by=self.ws.me(session),
                )
            return self.refresh(state) | {"_notice": "notification settings saved"}
        if not ids:
            raise ValidationError("select one or more tasks first")
        if action == "delete":
            with self.ws.transaction() as session:
                count = tasks.delete(
                    session, ids, confirm=bool(request.get("confirm")), by=self.ws.me(session)
                )
            return self.refresh(state) | {"selected": [], "_notice": f"deleted {count} task(s)"}
        if action == "edit":  # batch edit: only the fields the form filled in change
            changes = _edits(request)
            if not changes:
                raise ValidationError("fill in a deadline, a project or a description to change")
            with self.ws.transaction() as session:
                changed = tasks.edit(session, ids, **changes, by=self.ws.me(session))
            return self.refresh(state) | {
                "_notice": f"changed {', '.join(changes)} of {len(changed)} task(s)",
                "selected": [],
            }
        if action == "reassign":
            annotators = request.get("annotators")
            reviewers = request.get("reviewers")
            with self.ws.transaction() as session:
                changed = tasks.assign(
                    session, ids, annotators=annotators, reviewers=reviewers, by=self.ws.me(session)
                )
            return self.refresh(state) | {
                "_notice": f"reassigned {len(changed)} task(s)",
                "selected": [],
            }
        raise ValidationError(f"unknown request {action!r}")


def _edits(request: dict[str, Any]) -> dict[str, Any]:
    """What a batch edit changes: only the fields the form filled in."""
    changes: dict[str, Any] = {}
    if str(request.get("deadline") or "").strip():
        changes["deadline"] = deadline_of(str(request["deadline"]))
    if request.get("clear_deadline"):
        changes["deadline"] = None
    if request.get("project"):
        changes["project"] = None if request["project"] == NO_PROJECT else request["project"]
    if str(request.get("description") or "").strip():
        changes["description"] = str(request["description"])
    return changes


SPEC = Spec(
    name="TaskBoard",
    esm=HERE / "task_board.js",
    css=HERE / "widgets.css",
    controller=TaskBoardController,
    doc="Tasks as a board or a list; filter, select across pages, batch delete, reassign and edit.",
    traits={
        "view": Trait(str, "board", "'board' (a column per status) or 'list'."),
        "status": Trait(list, [], "Statuses to show; empty shows all."),
        "project": Trait(str, "", "Only tasks of this project ('' = any)."),
        "assignee": Trait(str, "", "Only tasks assigned to this user ('' = anyone)."),
        "search": Trait(str, "", "Text searched in names and descriptions."),
        "sort": Trait(str, "-created_at", "List order: a column, '-' first for descending."),
        "page": Trait(int, 1, "List page (from 1)."),
        "page_size": Trait(int, 25, "List rows per page."),
        "selected": Trait(list, [], "Selected task ids; kept across pages and filters."),
        "opened": Trait(int, 0, "Id of the task the user opened (0 = none)."),
        "counts": Trait(dict, {}, "Tasks per status under the current filters."),
        "columns": Trait(dict, {}, "Board view: the first cards of each status."),
        "rows": Trait(list, [], "List view: the current page."),
        "listed": Trait(dict, {}, "The filters, sort and page the rows shown were read for."),
        "total": Trait(int, 0, "Tasks matching the filters."),
        "pages": Trait(int, 1, "List pages."),
        "people": Trait(list, [], "Active users (filter and reassign choices)."),
        "projects": Trait(list, [], "Project names (filter choices)."),
        "statuses": Trait(list, [], "Statuses in workflow order with labels."),
        "can_manage": Trait(bool, False, "Whether this user may delete and reassign."),
        "notifications": Trait(list, [], "My newest notifications (from the audit log)."),
        "unread": Trait(int, 0, "How many of my notifications I have not read."),
        "notify": Trait(dict, {}, "My notification settings: muted kinds, e-mail, the kinds."),
        "loads": Trait(dict, {}, "Each annotator's open work and pace (for managers)."),
        "profile": Trait(dict, {}, "The page of the person whose name was clicked ({} = none)."),
        "anchor": Trait(dict, {}, "Where the last notification opened leads: task, episode, time."),
    },
)

TaskBoard = notebook_class(SPEC)
TaskBoardPanel = panel_class(SPEC)
