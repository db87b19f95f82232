"""Widgets: the same ESM front end in JupyterLab (``TaskBoard``...) and under ``panel serve``
(``TaskBoardPanel``...). Each acts as the workspace's user; the library decides what it may do."""

from .data_browser import DataBrowser, DataBrowserPanel
from .task_board import TaskBoard, TaskBoardPanel

__all__ = ["DataBrowser", "DataBrowserPanel", "TaskBoard", "TaskBoardPanel"]
