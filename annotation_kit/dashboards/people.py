"""Statistics (progress per task, tasks per status) and Admin (users: create, role, disable,
password) as served pages. Both act through the workspace's services, as the user logged in."""

from __future__ import annotations

import contextlib
import html
import logging
from typing import Any

import panel as pn

from ..access.workflow import Role, Status, is_supervisor
from ..errors import AnnotationKitError, ValidationError
from ..widgets._lanes import pool
from ..workspace import Workspace
from . import _drawing as drawing

log = logging.getLogger(__name__)


class StatisticsDashboard(pn.viewable.Viewer):
    """Tasks per status and each task's progress: datasets, annotated, annotations, people;
    for managers and admins also the overview charts (:mod:`annotation_kit.quality.charts`)."""

    def __init__(self, workspace: Workspace, **params: Any) -> None:
        super().__init__(**params)
        self.ws = workspace
        self.summary = pn.pane.HTML(sizing_mode="stretch_width")
        self.table = pn.pane.HTML(sizing_mode="stretch_width")
        refresh = pn.widgets.Button(name="Refresh", button_type="default", width=100)
        refresh.on_click(lambda _event: self.reload())
        self.charts = pn.FlexBox(sizing_mode="stretch_width")
        self.settings = pn.Row(sizing_mode="stretch_width")
        self.message = pn.pane.HTML(sizing_mode="stretch_width")
        self.figures: dict[str, Any] = {}
        with self.ws.transaction(write=False) as session:
            self.supervisor = is_supervisor(self.ws.me(session))
        if self.supervisor:
            self._controls()
        self._page = pn.Column(
            refresh,
            self.summary,
            self.settings,
            self.message,
            self.charts,
            self.table,
            sizing_mode="stretch_width",
        )
        self.reload()

    def _controls(self) -> None:
        """Which charts, which project, which dates: saved for this person; the report."""
        from ..quality import charts

        kept = charts.settings(self.ws)
        projects = [p.name for p in self.ws.projects.list_projects()]
        self.shown = pn.widgets.MultiChoice(
            name="Charts", options=list(charts.CHARTS), value=list(kept.charts), width=320
        )
        self.project = pn.widgets.Select(
            name="Project", options=["(all)", *projects], value=kept.project or "(all)", width=180
        )
        self.since = pn.widgets.TextInput(
            name="Since (YYYY-MM-DD)", value=kept.since or "", width=140
        )
        self.until = pn.widgets.TextInput(
            name="Until (YYYY-MM-DD)", value=kept.until or "", width=140
        )
        self.volume_by = pn.widgets.Select(
            name="Volume by", options=list(charts.VOLUME_BY), value=kept.volume_by, width=110
        )
        save = pn.widgets.Button(name="Save view", width=110, css_classes=["charts-save"])
        save.on_click(lambda _event: self._save())
        download = pn.widgets.FileDownload(
            callback=self._report,
            filename="overview.html",
            label="Download report (HTML)",
            width=200,
            css_classes=["charts-report"],
        )
        self.settings.objects = [
            self.shown,
            self.project,
            self.since,
            self.until,
            self.volume_by,
            save,
            download,
        ]

    def _save(self) -> None:
        from ..quality import charts

        try:
            charts.save_settings(
                self.ws,
                charts=self.shown.value,
                project=None if self.project.value == "(all)" else self.project.value,
                since=self.since.value or None,
                until=self.until.value or None,
                volume_by=self.volume_by.value,
            )
        except AnnotationKitError as exc:
            self.message.object = (
                f"<p class='ak-error' data-testid='charts-error'>{html.escape(str(exc))}</p>"
            )
            return
        self.message.object = "<p data-testid='charts-saved'>View saved.</p>"
        self._overview()

    def _report(self) -> Any:
        import io

        from ..quality.charts import report_html

        return io.StringIO(report_html(self.figures, title="annotation_kit overview"))

    def _overview(self) -> None:
        self.reload(figures_only=True)

    def reload(self, *, figures_only: bool = False) -> None:
        """Read the figures again: on a served page off the event loop and their drawing in a
        process of its own (the charts take a while and everyone else's saves must not wait
        for them), shown when read."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._show(self._read(figures_only=figures_only))
            return
        if not figures_only:  # after "Save view": that message stays while the charts follow
            self.message.object = "<p class='ak-muted' data-testid='charts-loading'>Reading…</p>"

        def read() -> None:
            try:
                found = self._read(figures_only=figures_only, served=True)
            except Exception as exc:  # shown on the page, not only in a log
                log.exception("statistics failed")
                found = {"error": f"{type(exc).__name__}: {exc}"}
            with contextlib.suppress(Exception):  # the page was closed meanwhile
                doc.add_next_tick_callback(lambda: self._show(found))

        pool().submit(read)

    def _read(self, *, figures_only: bool = False, served: bool = False) -> dict[str, Any]:
        """The plotly overview for managers and admins (a visitor sees the tables only), as
        this person saved it; PNG from each chart's own toolbar (the camera). Then the tasks
        per status and each task's progress. ``served``: the charts are drawn in a process of
        their own (:mod:`._drawing`)."""
        found: dict[str, Any] = {"figures": {}}
        if self.supervisor:
            from ..quality.charts import overview

            found["figures"] = (drawing.overview if served else overview)(self.ws)
        if figures_only:
            return found
        board = self.ws.task_queries.board(per_status=0)
        tasks = self.ws.task_queries.list_tasks(page_size=500, sort="-updated_at")
        found["summary"] = (
            "<p data-testid='per-status'>"
            + " · ".join(f"{html.escape(s.label)}: <b>{board.counts.get(s, 0)}</b>" for s in Status)
            + "</p>"
        )
        rows = "".join(
            "<tr data-testid='task-{id}'><td>{name}</td><td>{status}</td><td>{datasets}</td>"
            "<td>{annotated}</td><td>{annotations}</td><td>{completion}%</td>"
            "<td>{people}</td></tr>".format(
                id=card.id,
                name=html.escape(card.name),
                status=html.escape(card.status.label),
                datasets=card.counts.datasets,
                annotated=card.counts.annotated,
                annotations=card.counts.annotations,
                completion=round(100 * card.completion),
                people=html.escape(", ".join(card.annotators)),
            )
            for card in tasks.items
        )
        found["table"] = (
            "<table data-testid='progress'><thead><tr><th>Task</th><th>Status</th>"
            "<th>Datasets</th><th>Annotated</th><th>Annotations</th><th>Done</th>"
            f"<th>Annotators</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p>{tasks.total} task(s)</p>"
        )
        return found

    def _show(self, found: dict[str, Any]) -> None:
        if "error" in found:
            self.message.object = (
                f"<p class='ak-error' data-testid='charts-error'>{html.escape(found['error'])}</p>"
            )
            return
        if self.message.object and "charts-loading" in str(self.message.object):
            self.message.object = ""
        self.figures = found["figures"]
        self.charts.objects = [
            pn.pane.Plotly(figure, width=560, height=330, css_classes=[f"chart-{name}"])
            for name, figure in self.figures.items()
        ]
        if "summary" in found:
            self.summary.object = found["summary"]
            self.table.object = found["table"]

    def __panel__(self) -> pn.Column:
        return self._page


class AdminDashboard(pn.viewable.Viewer):
    """Users: create one, change a role or e-mail address, disable or enable, set a password
    (admins)."""

    def __init__(self, workspace: Workspace, **params: Any) -> None:
        super().__init__(**params)
        self.ws = workspace
        roles = [r.value for r in Role]
        self.users = pn.pane.HTML(sizing_mode="stretch_width")
        self.message = pn.pane.HTML(sizing_mode="stretch_width")
        self.user_name = pn.widgets.TextInput(name="User name", width=200)
        self.role = pn.widgets.Select(name="Role", options=roles, value="annotator", width=150)
        self.password = pn.widgets.PasswordInput(name="Password", width=200)
        self.email = pn.widgets.TextInput(name="E-mail (for single sign-on)", width=240)
        self.project = pn.widgets.Select(name="Project", options=[], width=200)
        buttons = {
            "create": ("Create user", self._create),
            "role": ("Set role", self._set_role),
            "disable": ("Disable", lambda: self._status("disabled")),
            "enable": ("Enable", lambda: self._status("active")),
            "password": ("Set password", self._set_password),
            "email": ("Set e-mail", self._set_email),
            "join": ("Add to project", lambda: self._membership(join=True)),
            "leave": ("Remove from project", lambda: self._membership(join=False)),
        }
        row = []
        for key, (label, action) in buttons.items():
            button = pn.widgets.Button(name=label, width=120, css_classes=[f"admin-{key}"])
            button.on_click(lambda _event, act=action: self._run(act))
            row.append(button)
        self._page = pn.Column(
            pn.Row(self.user_name, self.role, self.password, self.email, self.project),
            pn.Row(*row),
            self.message,
            self.users,
            sizing_mode="stretch_width",
        )
        self.reload()

    def _run(self, action: Any) -> None:
        try:
            note = action()
        except AnnotationKitError as exc:
            self.message.object = (
                f"<p style='color:#a4161a' data-testid='admin-error'>{html.escape(str(exc))}</p>"
            )
            return
        self.message.object = f"<p data-testid='admin-notice'>{html.escape(note)}</p>"
        self.password.value = ""
        self.reload()

    def _create(self) -> str:
        user = self.ws.users.create(
            self.user_name.value, self.role.value, email=self.email.value or None
        )
        if not self.password.value:
            return f"created {user.name} ({user.role}); they need a password to log in"
        self.ws.logins.set_password(user.name, self.password.value)
        return f"created {user.name} ({user.role}) with a password"

    def _set_role(self) -> str:
        user = self.ws.users.set_role(self.user_name.value, self.role.value)
        return f"{user.name} is now {user.role}"

    def _status(self, status: str) -> str:
        user = self.ws.users.set_status(self.user_name.value, status)
        return f"{user.name} is {user.status}"

    def _set_password(self) -> str:
        self.ws.logins.set_password(self.user_name.value, self.password.value)
        return f"password of {self.user_name.value} set; their open sessions ended"

    def _set_email(self) -> str:
        user = self.ws.users.set_email(self.user_name.value, self.email.value or None)
        return f"e-mail address of {user.name}: {user.email or 'none'}"

    def _membership(self, *, join: bool) -> str:
        if not self.project.value:
            raise ValidationError("choose a project first")
        name, project = self.user_name.value, self.project.value
        if join:
            self.ws.projects.add_members(project, [name])
            return f"{name} is a member of {project}"
        self.ws.projects.remove_members(project, [name])
        return f"{name} is no longer a member of {project}"

    def reload(self) -> None:
        """Read the users again."""
        self.project.options = [p.name for p in self.ws.projects.list_projects()]
        member_of = self.ws.projects.memberships()
        with_password = self.ws.logins.password_users()
        rows = "".join(
            f"<tr data-testid='user-{html.escape(u.name)}'><td>{html.escape(u.name)}</td>"
            f"<td>{u.role}</td><td>{u.status}</td><td>{html.escape(u.email or '')}</td>"
            f"<td>{html.escape(', '.join(member_of.get(u.name, [])))}</td>"
            f"<td>{'yes' if u.name in with_password else 'no'}</td></tr>"
            for u in self.ws.users.list_users()
        )
        self.users.object = (
            "<table data-testid='users'><thead><tr><th>User</th><th>Role</th><th>Status</th>"
            "<th>E-mail</th><th>Projects</th><th>Password</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def __panel__(self) -> pn.Column:
        return self._page
