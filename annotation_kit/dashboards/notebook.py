"""The tasks page in a notebook: board, details and what is opened from them, as ipywidgets (no
Panel needed; ``panel=True`` gives the served page's :class:`TasksDashboard`)."""

from __future__ import annotations

from typing import Any

from ..widgets import EpisodeAnnotator, ReviewForm, TaskBoard, TaskDetail
from ..widgets._base import saved_traits
from ..workspace import Workspace


def tasks_view(workspace: Workspace, *, panel: bool = False) -> Any:
    """The same page in a notebook: an ``ipywidgets.VBox`` of a :class:`TaskBoard`, a
    :class:`TaskDetail` and what is opened from it (its ``children``); ``panel=True`` gives
    the :class:`TasksDashboard` for ``panel serve``."""
    if panel:
        from .tasks import TasksDashboard

        return TasksDashboard(workspace)
    import ipywidgets

    board, detail = TaskBoard(workspace), TaskDetail(workspace)
    box = ipywidgets.VBox([board, detail])

    def show(value: dict[str, Any]) -> None:
        widget: Any = None
        if value.get("mode") == "annotate":
            widget = EpisodeAnnotator(
                workspace, task=value["task"], dataset=value["dataset"], at=value.get("at", 0)
            )
        elif value.get("mode"):
            widget = ReviewForm(workspace, task=value["task"])
        if widget is not None:
            follow = detail.follow_saves if value["mode"] == "annotate" else detail.reload
            widget.observe(lambda _change: follow(), names=saved_traits(value["mode"]))
        box.children = (board, detail) + ((widget,) if widget is not None else ())

    def opened(change: dict[str, Any]) -> None:
        if change["new"]:
            detail.open_task(int(change["new"]))

    def anchored(change: dict[str, Any]) -> None:  # a notification: its task and its place
        anchor = change["new"] or {}
        if anchor.get("task"):
            detail.open_task(int(anchor["task"]))
        if anchor.get("mode"):
            show(anchor | {"at": anchor.get("start_ns", 0)})

    board.observe(opened, names=["opened"])
    board.observe(anchored, names=["anchor"])
    detail.observe(lambda _change: board.reload(), names=["info"])
    detail.observe(lambda change: show(change["new"] or {}), names=["working"])
    return box
