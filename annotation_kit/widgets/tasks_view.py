"""The task board with the details of the task opened from it, and below them the episode
annotator or the review form opened from the details, in a notebook or a dashboard."""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .episode_annotator import EpisodeAnnotator, EpisodeAnnotatorPanel
from .review_form import ReviewForm, ReviewFormPanel
from .task_board import TaskBoard, TaskBoardPanel
from .task_detail import TaskDetail, TaskDetailPanel


def tasks_view(workspace: Workspace, *, panel: bool = False) -> Any:
    """A :class:`TaskBoard` above a :class:`TaskDetail`: opening a card shows that task below,
    and what is done in the details (start, submit, approve, delete...) shows on the board.
    *Annotate* / *Review…* in the details open an :class:`EpisodeAnnotator` or a
    :class:`ReviewForm` of that task under them; what is saved there shows in the details.

    Returns an ``ipywidgets.VBox`` for notebooks, or with ``panel=True`` a ``panel.Column`` for
    ``panel serve``. The widgets are its ``children`` / ``objects``.
    """
    classes = (
        (TaskBoardPanel, TaskDetailPanel, EpisodeAnnotatorPanel, ReviewFormPanel)
        if panel
        else (TaskBoard, TaskDetail, EpisodeAnnotator, ReviewForm)
    )
    board_class, detail_class, annotator_class, review_class = classes
    board, detail = board_class(workspace), detail_class(workspace)

    def opened(request: dict[str, Any]) -> None:
        if request.get("action") == "open":
            detail.open_task(int(request["task"]))

    def work(value: dict[str, Any]) -> Any:
        if not value:
            return None
        if value["mode"] == "annotate":
            widget = annotator_class(workspace, task=value["task"], dataset=value["dataset"])
        else:
            widget = review_class(workspace, task=value["task"])
        return widget

    def saved(value: dict[str, Any]) -> list[str]:
        """What changes when the widget saved something (not when the playhead moves)."""
        return ["segments"] if value["mode"] == "annotate" else ["verdicts", "status", "round"]

    if panel:
        import panel as pn

        column = pn.Column(board, detail, sizing_mode="stretch_width")

        def show_panel(value: dict[str, Any]) -> None:
            widget = work(value)
            if widget is not None:
                widget.param.watch(lambda *_events: detail.reload(), saved(value))
            column.objects = [board, detail] + ([widget] if widget is not None else [])

        board.param.watch(lambda event: opened(event.new), ["_request"])
        detail.param.watch(lambda _event: board.reload(), ["_revision"])
        detail.param.watch(lambda event: show_panel(event.new), ["working"])
        return column
    import ipywidgets

    box = ipywidgets.VBox([board, detail])

    def show(value: dict[str, Any]) -> None:
        widget = work(value)
        if widget is not None:
            widget.observe(lambda _change: detail.reload(), names=saved(value))
        box.children = (board, detail) + ((widget,) if widget is not None else ())

    board.observe(lambda change: opened(change["new"]), names=["_request"])
    detail.observe(lambda _change: board.reload(), names=["_revision"])
    detail.observe(lambda change: show(change["new"]), names=["working"])
    return box
