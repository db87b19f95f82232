"""The Panel host of a widget: its ``panel.custom.AnyWidgetComponent`` class (``panel serve``),
made from the same :class:`~._base.Spec` as the notebook's class. Answers are worked out on the
widget's lane, off the event loop, and delivered on the loop; news from elsewhere ``poke`` it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..errors import MissingExtra
from ..workspace import Workspace
from ._base import Spec, _Driver
from ._lanes import Lane

log = logging.getLogger(__name__)


def panel_class(spec: Spec) -> type:
    """The ``panel.custom.AnyWidgetComponent`` class of a widget (``panel serve`` dashboards);
    without Panel installed, a class that says which extra it needs when it is made."""
    from ..store._plugins import extra

    try:
        extra("serve", "panel", f"{spec.name}Panel")
    except MissingExtra as exc:
        said = str(exc)

        def missing(*_args: Any, **_kwargs: Any) -> None:
            raise MissingExtra(said)

        return type(f"{spec.name}Panel", (), {"__init__": missing, "__doc__": spec.doc})
    import param
    from panel.custom import AnyWidgetComponent

    kinds = {
        str: param.String,
        int: param.Integer,
        bool: param.Boolean,
        list: param.List,
        dict: param.Dict,
        float: param.Number,
    }
    body: dict[str, Any] = {
        name: kinds[t.kind](default=t.default, doc=t.doc) for name, t in spec.all_traits.items()
    }
    body["_esm"] = spec.module()
    # Panel waits 50 ms after a change from the browser before handling it (to merge a slider's
    # drag); a request and a playhead move are single acts the user waits on: handled at once
    body["_priority_changes"] = [n for n in ("_request", "playhead") if n in spec.all_traits]
    if spec.css:
        body["_stylesheets"] = [spec.css.read_text()]
    body |= {
        "_declared": spec,
        "__init__": _init,
        "_handle_msg": _handle_msg,
        "_on_lane": _on_lane,
        "_on_loop": _on_loop,
        "poke": _poke,
        "_set_many": _set_many,
        "__doc__": spec.doc,
    }
    return type(f"{spec.name}Panel", (_Driver, AnyWidgetComponent), body)


def _init(self: Any, workspace: Workspace, **options: Any) -> None:
    import panel as pn
    from panel.custom import AnyWidgetComponent

    AnyWidgetComponent.__init__(self, sizing_mode="stretch_width")
    spec = self._declared
    self._lane = Lane(spec.name)
    self._doc = None
    self._start(spec, workspace, options)  # the first state goes out with the page
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        self._doc = doc
    self.param.watch(lambda e: self._on_request(e.new), ["_request"])

    # several params changed in one browser message arrive as several events; our own
    # updates (while applying an answer) must not trigger a refresh: checked now, not later
    def changed(*_events: Any) -> None:
        if not getattr(self, "_applying", False):
            self._on_watched()

    self.param.watch(changed, list(self._controller.watched))


def _handle_msg(self: Any, data: Any) -> None:
    # a request the page sent as a message: each one arrives, none overwrites another
    if isinstance(data, dict):
        self._on_request(data)


def _on_lane(self: Any, job: Callable[[], None]) -> None:
    # on the event loop of a live session: onto the lane; else (tests, a thread) at once
    import panel as pn

    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        self._doc = doc
        self._lane.submit(job)
    else:
        job()


def _on_loop(self: Any, work: Callable[[], None]) -> None:
    # traits are set on the event loop, with the document locked, on its next tick
    doc = self._doc
    if doc is None or doc.session_context is None:
        work()
        return
    try:
        doc.add_next_tick_callback(work)
    except Exception:  # the session ended meanwhile: what was written stays written
        log.debug("%s: answer not delivered, the session is gone", self._spec.name)


def _poke(self: Any) -> None:
    # told (from another thread) that something changed elsewhere: read everything again
    # on the lane, once however often it is told meanwhile
    if self._doc is None or getattr(self, "_poked", False):
        return
    self._poked = True

    def again() -> None:
        self._poked = False
        self._answer_now(self._controller.refresh, None)

    self._lane.submit(again)


def _set_many(self: Any, updates: dict[str, Any]) -> None:
    self.param.update(updates)  # one Bokeh message for the whole answer
