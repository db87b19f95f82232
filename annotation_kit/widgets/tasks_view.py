"""The task board with the details of the task opened from it, in a notebook or a dashboard."""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .task_board import TaskBoard, TaskBoardPanel
from .task_detail import TaskDetail, TaskDetailPanel


def tasks_view(workspace: Workspace, *, panel: bool = False) -> Any:
    """A :class:`TaskBoard` above a :class:`TaskDetail`: opening a card shows that task below,
    and what is done in the details (start, submit, approve, delete...) shows on the board.

    Returns an ``ipywidgets.VBox`` for notebooks, or with ``panel=True`` a ``panel.Column`` for
    ``panel serve``. The two widgets are its ``children`` / ``objects``.
    """
    board_class, detail_class = (
        (TaskBoardPanel, TaskDetailPanel) if panel else (TaskBoard, TaskDetail)
    )
    board, detail = board_class(workspace), detail_class(workspace)

    def opened(request: dict[str, Any]) -> None:
        if request.get("action") == "open":
            detail.open_task(int(request["task"]))

    if panel:
        import panel as pn

        board.param.watch(lambda event: opened(event.new), ["_request"])
        detail.param.watch(lambda _event: board.reload(), ["_revision"])
        return pn.Column(board, detail, sizing_mode="stretch_width")
    import ipywidgets

    board.observe(lambda change: opened(change["new"]), names=["_request"])
    detail.observe(lambda _change: board.reload(), names=["_revision"])
    return ipywidgets.VBox([board, detail])
