"""Widgets: the same ESM front end in JupyterLab (``TaskBoard``) and under ``panel serve``
(``TaskBoardPanel``)."""

from .task_board import TaskBoard, TaskBoardPanel

__all__ = ["TaskBoard", "TaskBoardPanel"]
