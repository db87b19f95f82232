"""Dashboards: the widgets composed into the pages ``panel serve`` shows (Panel ``Viewer``
classes, each a page of the served app). They reach the store only through the widgets and the
services, like everything a browser talks to. The Panel classes need the ``serve`` extra and are
imported when first named; :func:`tasks_view` (the notebook's tasks page) needs only Jupyter."""

from typing import TYPE_CHECKING, Any

from .notebook import tasks_view

if TYPE_CHECKING:
    from .people import AdminDashboard, StatisticsDashboard
    from .tasks import TasksDashboard

__all__ = ["AdminDashboard", "StatisticsDashboard", "TasksDashboard", "tasks_view"]

_PANEL = {"AdminDashboard": "people", "StatisticsDashboard": "people", "TasksDashboard": "tasks"}


def __getattr__(name: str) -> Any:
    if name not in _PANEL:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    from ..store._plugins import extra

    extra("serve", "panel", name)  # named here: the page modules import Panel first thing
    return getattr(import_module(f".{_PANEL[name]}", __name__), name)
