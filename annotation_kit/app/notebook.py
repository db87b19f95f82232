"""The tasks page in a notebook (no Panel needed): :func:`tasks_view`."""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .tasks import TaskPage, _notebook_host


def tasks_view(workspace: Workspace, *, panel: bool = False, **options: Any) -> Any:
    """The tasks page in a notebook: an ``ipywidgets.VBox`` of a :class:`TaskBoard`, a
    :class:`TaskDetail` and what is opened from it (its ``children``); ``panel=True`` gives
    the :class:`~.pages.TasksDashboard` for ``panel serve``. ``options`` as
    :class:`~.tasks.TaskPage`'s."""
    if panel:
        from .pages import TasksDashboard

        return TasksDashboard(workspace, **options)
    import ipywidgets

    box = ipywidgets.VBox()

    def show(objects: list[Any]) -> None:
        box.children = tuple(objects)

    box.page = TaskPage(workspace, _notebook_host(), show, **options)  # type: ignore[attr-defined]
    return box
