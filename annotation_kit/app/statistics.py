"""Statistics (progress per task, tasks per status, the overview charts) as a served page. It
reads through the workspace's services, as the user logged in. (People are managed on the Setup
page's users tab, :mod:`annotation_kit.widgets.admin`.)"""

from __future__ import annotations

import contextlib
import html
import logging
from typing import Any

import panel as pn

from ..access.workflow import Status, is_supervisor
from ..errors import AnnotationKitError
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
        if not tasks.total:  # an empty page says why, rather than showing zeros
            found["table"] += "<p data-testid='nothing-seen'>No task is visible to you yet. " + (
                "You see the tasks you annotate or review, and those of projects you are a "
                "member of or that are shared as visible: ask a manager to add you to a "
                "project, or to make one visible.</p>"
                if not self.supervisor
                else "Create one from the Data page.</p>"
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
