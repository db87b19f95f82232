"""The task board, the details of the task opened from it, and below them the episode annotator
or the review form opened from the details."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import panel as pn

from ..widgets import (
    EpisodeAnnotatorPanel,
    ReviewFormPanel,
    TaskBoardPanel,
    TaskDetailPanel,
)
from ..widgets._base import saved_traits
from ..workspace import Workspace

DETAIL_DELAY_MS = 1500
"""How long after the last save below them the details are read again: long enough that an
annotator saving steadily (a segment every second or two) is not slowed by reloads of counts
and history, which on a busy server would otherwise follow every save."""
DETAIL_EVERY_S = 15.0
"""And no more often than this while the saves go on: the counts above the annotator lag up
to this behind a steady stream of saves (each save's own answer is never delayed, and the
annotator shows its segments at once). At 6 s these reads were a fifth of the server's work
with 20 people saving (py-spy), more than the saves themselves."""


class TasksDashboard(pn.viewable.Viewer):
    """A :class:`TaskBoardPanel` above a :class:`TaskDetailPanel`: opening a card shows that
    task below, and what is done in the details (start, submit, approve, delete...) shows on
    the board. *Annotate* / *Review…* in the details open an annotator or a review form of that
    task under them; what is saved there shows in the details. ``assignee`` and ``status``
    start the board filtered (a person's own work); ``link`` (``{"task", "mode", "dataset",
    "start_ns"}``, as a notification's anchor) opens a task, and an episode of it, at once."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        assignee: str = "",
        status: Sequence[str] = (),
        link: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.ws = workspace
        self.board = TaskBoardPanel(workspace)
        if assignee or status:  # a page of one person's work: the board starts filtered
            self.board.param.update(assignee=assignee, status=list(status))
        self.detail = TaskDetailPanel(workspace)
        self.work: Any = None
        self._pending: Any = None
        self._followed = 0.0  # when the details last followed the saves below (monotonic)
        self._whole = False  # a save below asks for the whole details, not their progress
        self._page = pn.Column(self.board, self.detail, sizing_mode="stretch_width")
        self.board.param.watch(self._opened, ["opened"])
        self.board.param.watch(self._anchored, ["anchor"])
        self.detail.param.watch(lambda _event: self.board.reload(), ["info"])
        self.detail.param.watch(self._working, ["working"])
        if link:  # the page's address named a task (and an episode, a time)
            self._anchored(SimpleNamespace(new=link))

    def _opened(self, event: Any) -> None:
        if event.new:
            self.detail.open_task(int(event.new))
            self._followed = time.monotonic()  # just read: the saves' first follow-up waits

    def _anchored(self, event: Any) -> None:
        """A notification opened: its task, and the annotator (or review form) at its place."""
        anchor = event.new or {}
        if anchor.get("task"):
            self.detail.open_task(int(anchor["task"]))
            self._followed = time.monotonic()  # (twenty pages opened together: not together)
        if anchor.get("mode"):
            self._working(SimpleNamespace(new=anchor | {"at": anchor.get("start_ns", 0)}))

    def _working(self, event: Any) -> None:
        value = event.new or {}
        self.work = None
        if value.get("mode") == "annotate":
            self.work = EpisodeAnnotatorPanel(
                self.ws, task=value["task"], dataset=value["dataset"], at=value.get("at", 0)
            )
        elif value.get("mode"):
            self.work = ReviewFormPanel(self.ws, task=value["task"])
        if self.work is not None:
            # a review form's status or round changed (a task passed or sent back): history,
            # people and actions change too; a verdict alone changes progress and lists
            self.work.param.watch(
                lambda *events: self._saved(any(e.name in ("status", "round") for e in events)),
                saved_traits(value["mode"]),
            )
        self._page.objects = [self.board, self.detail] + ([self.work] if self.work else [])

    def _saved(self, whole: bool = False) -> None:
        """The work below saved: the details follow once the saving pauses (rapid saves —
        a segment a second — reload them once, after the answers have gone out)."""
        doc = pn.state.curdoc
        self._whole = self._whole or whole
        if doc is None or doc.session_context is None:
            self._reload_detail()
            return
        if self._pending is not None:
            with contextlib.suppress(ValueError):  # it may have run meanwhile
                doc.remove_timeout_callback(self._pending)
        wait_s = DETAIL_DELAY_MS / 1000  # a status changed: at once, whatever came before
        if not self._whole:
            wait_s = max(wait_s, self._followed + DETAIL_EVERY_S - time.monotonic())
        self._pending = doc.add_timeout_callback(self._reload_detail, int(wait_s * 1000))

    def _reload_detail(self) -> None:
        self._pending = None
        self._followed = time.monotonic()
        whole, self._whole = self._whole, False
        if whole:
            self.detail.reload()
        else:  # an annotator's saves change progress and lists, not history or people
            self.detail.follow_saves()

    @property
    def objects(self) -> list[Any]:
        """The widgets on the page, top to bottom."""
        return list(self._page.objects)

    def __panel__(self) -> pn.Column:
        return self._page
