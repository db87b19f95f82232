"""The tasks page — the task board, the details of the task opened from it, and below them the
episode annotator or the review form opened from the details — wired once (:class:`TaskPage`)
for both hosts: a notebook (:func:`~.notebook.tasks_view`, ipywidgets, no Panel needed) and
the served app (:class:`~.pages.TasksDashboard`, a Panel ``Viewer``). The hosts differ only in
how a widget's change is watched, how several traits are set and whether a reload can wait
(:class:`_Host`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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

Changed = Callable[[dict[str, Any]], None]
"""Told what changed in a widget: trait name → its new value."""


@dataclass(frozen=True)
class _Host:
    """What differs between a notebook and the served app."""

    board: Callable[..., Any]
    detail: Callable[..., Any]
    annotator: Callable[..., Any]
    review: Callable[..., Any]
    watch: Callable[[Any, list[str], Changed], None]
    update: Callable[..., None]
    """Set several traits of a widget (one refresh where the host can)."""
    later: Callable[[Callable[[], None], float], Callable[[], None] | None]
    """Run a function in this many seconds and return what cancels it; None: it ran now
    (a notebook, or a Panel widget outside a live session)."""


class TaskPage:
    """A board above the details: opening a card shows that task below, and what is done in
    the details (start, submit, approve, delete...) shows on the board. *Annotate* /
    *Review…* in the details open an annotator or a review form of that task under them; what
    is saved there shows in the details (after a pause in the saves, at most every
    :data:`DETAIL_EVERY_S` while they go on; a status change at once). ``assignee`` and
    ``status`` start the board filtered (a person's own work); ``link`` (``{"task", "mode",
    "dataset", "start_ns"}``, as a notification's anchor) opens a task, and an episode of it.
    ``show`` is told the widgets on the page, top to bottom, whenever they change."""

    def __init__(
        self,
        workspace: Workspace,
        host: _Host,
        show: Callable[[list[Any]], None],
        *,
        assignee: str = "",
        status: Sequence[str] = (),
        link: dict[str, Any] | None = None,
    ) -> None:
        self.ws, self._host, self._show = workspace, host, show
        self.board = host.board(workspace)
        if assignee or status:  # a page of one person's work: the board starts filtered
            host.update(self.board, assignee=assignee, status=list(status))
        self.detail = host.detail(workspace)
        self.work: Any = None
        self._cancel: Callable[[], None] | None = None
        self._followed = 0.0  # when the details last followed the saves below (monotonic)
        self._whole = False  # a save below asks for the whole details, not their progress
        host.watch(self.board, ["opened"], lambda new: self._opened(new["opened"]))
        host.watch(self.board, ["anchor"], lambda new: self._anchored(new["anchor"]))
        host.watch(self.detail, ["info"], lambda _new: self.board.reload())
        host.watch(self.detail, ["working"], lambda new: self._working(new["working"]))
        show(self.objects)
        if link:  # the page's address named a task (and an episode, a time)
            self._anchored(link)

    @property
    def objects(self) -> list[Any]:
        """The widgets on the page, top to bottom."""
        return [self.board, self.detail] + ([self.work] if self.work is not None else [])

    def _opened(self, task: int) -> None:
        if task:
            self.detail.open_task(int(task))
            self._followed = time.monotonic()  # just read: the saves' first follow-up waits

    def _anchored(self, anchor: dict[str, Any] | None) -> None:
        """A notification opened: its task, and the annotator (or review form) at its place."""
        anchor = anchor or {}
        if anchor.get("task"):
            self.detail.open_task(int(anchor["task"]))
            self._followed = time.monotonic()  # (twenty pages opened together: not together)
        if anchor.get("mode"):
            self._working(anchor | {"at": anchor.get("start_ns", 0)})

    def _working(self, value: dict[str, Any] | None) -> None:
        value = value or {}
        self.work = None
        if value.get("mode") == "annotate":
            self.work = self._host.annotator(
                self.ws, task=value["task"], dataset=value["dataset"], at=value.get("at", 0)
            )
        elif value.get("mode"):
            self.work = self._host.review(self.ws, task=value["task"])
        if self.work is not None:
            # a review form's status or round changed (a task passed or sent back): history,
            # people and actions change too; a verdict alone changes progress and lists
            self._host.watch(
                self.work,
                saved_traits(value["mode"]),
                lambda new: self._saved(bool({"status", "round"} & set(new))),
            )
        self._show(self.objects)

    def _saved(self, whole: bool = False) -> None:
        """The work below saved: the details follow once the saving pauses (rapid saves —
        a segment a second — reload them once, after the answers have gone out)."""
        self._whole = self._whole or whole
        if self._cancel is not None:
            self._cancel()
        wait_s = DETAIL_DELAY_MS / 1000  # a status changed: at once, whatever came before
        if not self._whole:
            wait_s = max(wait_s, self._followed + DETAIL_EVERY_S - time.monotonic())
        self._cancel = self._host.later(self._reload_detail, wait_s)

    def _reload_detail(self) -> None:
        self._cancel = None
        self._followed = time.monotonic()
        whole, self._whole = self._whole, False
        if whole:
            self.detail.reload()
        else:  # an annotator's saves change progress and lists, not history or people
            self.detail.follow_saves()


def _notebook_host() -> _Host:
    from ..widgets import EpisodeAnnotator, ReviewForm, TaskBoard, TaskDetail

    def watch(widget: Any, names: list[str], told: Changed) -> None:
        widget.observe(lambda change: told({change["name"]: change["new"]}), names=names)

    def update(widget: Any, **values: Any) -> None:
        with widget.hold_sync():
            for name, value in values.items():
                setattr(widget, name, value)

    def now(work: Callable[[], None], _seconds: float) -> None:
        work()  # a kernel has no page loop of ours to wait on: the details follow at once

    return _Host(TaskBoard, TaskDetail, EpisodeAnnotator, ReviewForm, watch, update, now)


def _served_host() -> _Host:
    import panel as pn

    from ..widgets import EpisodeAnnotatorPanel, ReviewFormPanel, TaskBoardPanel, TaskDetailPanel

    def watch(widget: Any, names: list[str], told: Changed) -> None:
        # several traits changed by one message arrive together
        widget.param.watch(lambda *events: told({e.name: e.new for e in events}), names)

    def later(work: Callable[[], None], seconds: float) -> Callable[[], None] | None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            work()
            return None
        pending = doc.add_timeout_callback(work, int(seconds * 1000))

        def cancel() -> None:
            with contextlib.suppress(ValueError):  # it may have run meanwhile
                doc.remove_timeout_callback(pending)

        return cancel

    def update(widget: Any, **values: Any) -> None:
        widget.param.update(**values)

    return _Host(
        TaskBoardPanel,
        TaskDetailPanel,
        EpisodeAnnotatorPanel,
        ReviewFormPanel,
        watch,
        update,
        later,
    )
