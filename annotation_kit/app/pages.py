"""The served app's pages: which roles may open each, what it shows, and the navigation bar.

Every page is built per browser session for the user of that session's cookie, and checks the
role again itself: the HTTP check (403) is the first wall, not the only one."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import panel as pn

from ..access.workflow import Role
from ..workspace import Workspace
from .tasks import TaskPage, _served_host

ALL = frozenset(Role)
SUPERVISORS = frozenset({Role.MANAGER, Role.ADMIN})


def linked(mode: str) -> dict[str, Any]:
    """Where the page's address leads: ``?task=7`` opens task 7, ``&dataset=12`` its episode in
    the annotator (``mode="annotate"``) or the review form, ``&at_ns=`` with the playhead
    there; what is not a whole number is left out (the page opens as without it)."""
    args = pn.state.session_args or {}
    found: dict[str, Any] = {}
    for name in ("task", "dataset", "at_ns"):
        value = (args.get(name) or [b""])[0]
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        if text.isdigit() and len(text) < 19:
            found[name] = int(text)
    if "task" not in found:
        return {}
    anchor = {"task": found["task"]}
    if "dataset" in found or mode == "review":
        anchor |= {"mode": mode, "dataset": found.get("dataset", 0)}
        anchor |= {"start_ns": found.get("at_ns", 0)}
    return anchor


def _work(ws: Workspace) -> Any:
    return TasksDashboard(
        ws, assignee=ws.user, status=["pending", "in_progress"], link=linked("annotate")
    )


def _review(ws: Workspace) -> Any:
    return TasksDashboard(ws, assignee=ws.user, status=["pending_review"], link=linked("review"))


def _tasks(ws: Workspace) -> Any:
    return TasksDashboard(ws, link=linked("annotate"))


class TasksDashboard(pn.viewable.Viewer):
    """The tasks page served: a :class:`~.tasks.TaskPage` (board, details, and the annotator or
    review form opened from them) in a Panel column. Options as ``TaskPage``'s."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        assignee: str = "",
        status: Sequence[str] = (),
        link: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self._page = pn.Column(sizing_mode="stretch_width")
        self.page = TaskPage(
            workspace,
            _served_host(),
            lambda objects: setattr(self._page, "objects", objects),
            assignee=assignee,
            status=status,
            link=link,
        )
        self.board, self.detail = self.page.board, self.page.detail

    @property
    def work(self) -> Any:
        """The annotator or review form open below the details, if any."""
        return self.page.work

    @property
    def objects(self) -> list[Any]:
        """The widgets on the page, top to bottom."""
        return self.page.objects

    def __panel__(self) -> pn.Column:
        return self._page


def _data(ws: Workspace) -> Any:
    from ..widgets import DataBrowserPanel

    return DataBrowserPanel(ws)


def _queue(ws: Workspace) -> Any:
    from ..widgets import QueueMonitorPanel

    return QueueMonitorPanel(ws)


def _exports(ws: Workspace) -> Any:
    from ..widgets import ExporterPanel

    return ExporterPanel(ws)


def _statistics(ws: Workspace) -> Any:
    from .statistics import StatisticsDashboard

    return StatisticsDashboard(ws)


def _setup(ws: Workspace) -> Any:
    from ..widgets import AdminPanelPanel
    from ..work.views import TABS

    # ``?tab=users`` opens that tab (where the library lets this person see it)
    value = ((pn.state.session_args or {}).get("tab") or [b""])[0]
    tab = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return AdminPanelPanel(ws, **({"tab": tab} if tab in TABS else {}))


@dataclass(frozen=True)
class Page:
    """One page of the served app: its path, title, the roles that may open it, its builder."""

    slug: str
    title: str
    roles: frozenset[Role]
    build: Callable[[Workspace], Any]


PAGES = (
    Page("work", "My work", frozenset({Role.ANNOTATOR}) | SUPERVISORS, _work),
    Page("review", "Review", frozenset({Role.REVIEWER}) | SUPERVISORS, _review),
    Page("tasks", "Tasks", SUPERVISORS, _tasks),
    Page("data", "Data", frozenset({Role.COLLECTOR}) | SUPERVISORS, _data),
    Page("exports", "Exports", SUPERVISORS, _exports),
    Page("queue", "Queue", SUPERVISORS, _queue),
    Page("statistics", "Statistics", frozenset({Role.VISITOR}) | SUPERVISORS, _statistics),
    Page("setup", "Setup", ALL, _setup),
)
BY_SLUG = {page.slug: page for page in PAGES}


def pages_for(role: Role | str) -> list[Page]:
    """The pages a role may open, in navigation order."""
    return [page for page in PAGES if role in page.roles]


def navigation(
    user: str, role: Role | str, prefix: str, current: str = "", *, logout: str = ""
) -> pn.pane.HTML:
    """The bar at the top: this user's pages, who is logged in, and a way out (a form that
    posts the session's ``logout`` token)."""
    links = " ".join(
        f"<a href='{prefix}/{p.slug}' data-testid='nav-{p.slug}'"
        + (" aria-current='page' style='font-weight:bold'" if p.slug == current else "")
        + f">{html.escape(p.title)}</a>"
        for p in pages_for(role)
    )
    return pn.pane.HTML(
        f"<nav data-testid='nav' style='display:flex;gap:1rem;align-items:center'>"
        f"<a href='{prefix}/'><b>annotation_kit</b></a> {links}"
        f"<span style='margin-left:auto' data-testid='who'>{html.escape(user)} "
        f"({html.escape(str(role))})</span> "
        f"<form method='post' action='{prefix}/logout' style='margin:0'>"
        f"<input type='hidden' name='token' value='{html.escape(logout)}'>"
        f"<button type='submit' data-testid='logout'>Log out</button></form></nav>",
        sizing_mode="stretch_width",
    )


def home(user: str, role: Role | str, prefix: str, *, logout: str = "") -> Any:
    """The landing page: this user's pages, each with what it is for."""
    purposes = {
        "work": "your tasks to annotate, and the annotator",
        "review": "tasks waiting for your review, and the review form",
        "tasks": "every task: board, details, what opens from them",
        "data": "browse datasets and create tasks from them",
        "exports": "export tasks as training data, releases and their history",
        "queue": "background jobs: exports, imports, checks",
        "statistics": "progress per task and status",
        "setup": "projects, skill library, dictionaries, guidelines (admins: settings, users)",
    }
    items = "".join(
        f"<li><a href='{prefix}/{p.slug}'>{html.escape(p.title)}</a>: {purposes[p.slug]}</li>"
        for p in pages_for(role)
    )
    return pn.Column(
        navigation(user, role, prefix, logout=logout),
        pn.pane.HTML(
            f"<h2>Welcome, {html.escape(user)}</h2><ul data-testid='pages'>{items}</ul>",
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
    )
