"""Dashboards: the widgets composed into the pages ``panel serve`` shows (Panel ``Viewer``
classes, each a page of the served app). They reach the store only through the widgets and the
services, like everything a browser talks to."""

from .people import AdminDashboard, StatisticsDashboard
from .tasks import TasksDashboard, tasks_view

__all__ = ["AdminDashboard", "StatisticsDashboard", "TasksDashboard", "tasks_view"]
