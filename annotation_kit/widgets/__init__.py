"""Widgets: the same ESM front end in JupyterLab (``TaskBoard``...) and under ``panel serve``
(``TaskBoardPanel``...). Each acts as the workspace's user; the library decides what it may do."""

from .admin import AdminPanel, AdminPanelPanel
from .data_browser import DataBrowser, DataBrowserPanel
from .episode_annotator import EpisodeAnnotator, EpisodeAnnotatorPanel
from .exporter import Exporter, ExporterPanel
from .queue_monitor import QueueMonitor, QueueMonitorPanel
from .review_form import ReviewForm, ReviewFormPanel
from .task_board import TaskBoard, TaskBoardPanel
from .task_detail import TaskDetail, TaskDetailPanel

__all__ = [
    "AdminPanel",
    "AdminPanelPanel",
    "DataBrowser",
    "DataBrowserPanel",
    "EpisodeAnnotator",
    "EpisodeAnnotatorPanel",
    "Exporter",
    "ExporterPanel",
    "QueueMonitor",
    "QueueMonitorPanel",
    "ReviewForm",
    "ReviewFormPanel",
    "TaskBoard",
    "TaskBoardPanel",
    "TaskDetail",
    "TaskDetailPanel",
]
