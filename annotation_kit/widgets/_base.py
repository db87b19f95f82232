"""One declaration per widget, two front-end hosts.

A widget is an ESM file (anywidget's module format, plain JavaScript, no CDN imports), a
:class:`Spec` naming its synced state, and a controller: a plain class that turns requests from
the browser into service calls and returns state updates. From that, :func:`notebook_class`
builds the ``anywidget.AnyWidget`` used in JupyterLab and :func:`panel_class` the
``panel.custom.AnyWidgetComponent`` used under ``panel serve``; both load the same ESM file.

Requests travel in the ``_request`` trait (``{"id": n, "action": ..., ...}``); the controller's
answer updates state traits and ``_error`` / ``_notice``. Permission checks happen in the
service layer, so a forged request from a browser is refused exactly like a button click.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..access._inputs import json_problem
from ..errors import AnnotationKitError, ValidationError
from ..store import writes
from ..workspace import Workspace

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trait:
    """One piece of synced state: its Python type, default and a docstring."""

    kind: type
    default: Any
    doc: str


COMMON = {
    "_request": Trait(dict, {}, "Last request from the browser: {id, action, ...}."),
    "_error": Trait(str, "", "Why the last request was refused, shown to the user."),
    "_notice": Trait(str, "", "What the last request did, shown to the user."),
    "user": Trait(str, "", "Who the widget acts as."),
    "_revision": Trait(int, 0, "Bumped after every answer from Python: the browser redraws then."),
    "_done": Trait(list, [], "Ids of the last writes answered (applied, refused or sent twice)."),
    "_kind": Trait(str, "", "Which widget this is: where the page keeps its unanswered writes."),
}
ANSWERED_KEPT = 16


class Controller(Protocol):
    """Framework-free logic of a widget."""

    @property
    def watched(self) -> Sequence[str]:
        """State names whose change (from the browser) triggers :meth:`refresh`."""
        ...

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]: ...

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Spec:
    name: str
    esm: Path
    traits: dict[str, Trait]
    controller: Callable[..., Controller]
    css: Path | None = None
    doc: str = ""
    parts: tuple[str, ...] = ()
    """Shared front-end files placed between ``_common.js`` and the widget's own file."""
    all_traits: dict[str, Trait] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "all_traits", COMMON | self.traits)

    def module(self) -> str:
        """The ESM source: the shared helpers and parts, then the widget's own file."""
        files = [HERE / "_common.js", *(HERE / part for part in self.parts), self.esm]
        return "\n".join(f.read_text() for f in files)


class _Driver:
    """What both host classes share: run the controller and apply its updates.

    A request runs as :meth:`_answer` (the controller's work, the database's) and then
    :meth:`_deliver` (its updates set on the widget). In a notebook both happen at once; a
    served widget answers on its :class:`~._lanes.Lane`, off the event loop, and delivers on the
    loop. Until an answer is delivered, the next request of the lane reads the state as that
    answer left it (``_shadow``)."""

    _revision: int
    _controller: Controller

    def _start(self, spec: Spec, workspace: Workspace, options: dict[str, Any]) -> None:
        self._spec = spec
        self._answered: deque[str] = deque(maxlen=ANSWERED_KEPT)
        self._shadow: dict[str, Any] = {}
        self._shadow_lock = threading.Lock()
        self._controller = spec.controller(workspace, **options)
        self._apply({"user": workspace.user, "_kind": spec.name})
        self._answer_now(self._controller.refresh, None)

    def _state(self) -> dict[str, Any]:
        with self._shadow_lock:
            return {name: getattr(self, name) for name in self._spec.all_traits} | self._shadow

    def _apply(self, updates: dict[str, Any]) -> None:
        unknown = set(updates) - set(self._spec.all_traits)
        if unknown:  # a controller bug: say which, rather than set attributes nobody syncs
            raise AttributeError(f"{self._spec.name} has no trait {', '.join(sorted(unknown))}")
        self._applying = True  # our own updates must not trigger another refresh
        try:
            self._set_many(updates)
        finally:
            self._applying = False

    def _set_many(self, updates: dict[str, Any]) -> None:
        """Set several traits; the hosts send them to the browser as one message."""
        for name, value in updates.items():
            setattr(self, name, value)

    def _run(
        self, step: Callable[[dict[str, Any]], dict[str, Any]], write_id: str | None = None
    ) -> None:
        self._on_lane(lambda: self._answer_now(step, write_id))

    def _on_lane(self, job: Callable[[], None]) -> None:
        """Run ``job`` (served widgets: on their lane)."""
        job()

    def _on_loop(self, work: Callable[[], None]) -> None:
        """Run ``work``, which sets traits (served widgets: on the event loop)."""
        work()

    def _answer_now(
        self, step: Callable[[dict[str, Any]], dict[str, Any]], write_id: str | None
    ) -> None:
        updates = self._answer(step, self._state(), write_id)
        with self._shadow_lock:
            self._shadow.update(updates)
        later = getattr(self._controller, "later", None)
        if later is not None:  # work that may follow the answer (e.g. frames sent ahead)
            setattr(self._controller, "later", None)  # noqa: B010 - not every controller has it
        self._on_loop(lambda: self._deliver(updates, answer=True))
        if later is not None:
            self._on_lane(lambda: self._follow(later))

    def _answer(
        self,
        step: Callable[[dict[str, Any]], dict[str, Any]],
        state: dict[str, Any],
        write_id: str | None,
    ) -> dict[str, Any]:
        updates: dict[str, Any]
        try:
            with writes.applying(write_id) if write_id else contextlib.nullcontext():
                updates = {"_error": ""} | step(state)
        except writes.AlreadyApplied:  # a copy of a write applied before: show what is stored
            updates = {"_error": "", "_notice": "already saved"} | self._controller.refresh(state)
        except AnnotationKitError as exc:  # the library said no: show it, change nothing
            updates = {"_error": str(exc), "_notice": ""}
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            if not _read_from_the_request(exc):
                log.exception("%s failed", self._spec.name)
                updates = {"_error": f"internal error ({type(exc).__name__}): {exc}"}
            else:  # a field missing or of the wrong kind: no button sends that
                updates = {"_error": f"bad request: {_what(exc)}"}
            updates["_notice"] = ""
        except Exception as exc:  # a bug: say so in the widget, not only in a server log
            log.exception("%s failed", self._spec.name)
            updates = {"_error": f"internal error ({type(exc).__name__}): {exc}", "_notice": ""}
        if write_id:  # answered, whatever the answer: the page stops re-sending it
            if write_id not in self._answered:
                self._answered.append(write_id)
            updates["_done"] = list(self._answered)
        return updates

    def _deliver(self, updates: dict[str, Any], *, answer: bool) -> None:
        self._apply(updates)
        if answer:
            # on its own, after the answer: whatever order a host sends one batch in, the
            # browser has every value of the answer when it redraws
            self._apply({"_revision": self._revision + 1})
        with self._shadow_lock:
            for name, value in updates.items():
                if self._shadow.get(name) is value:
                    del self._shadow[name]

    def _follow(self, later: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        try:
            updates = later(self._state())
        except Exception:  # only an optimisation: the widget works without it
            log.exception("%s: follow-up work failed", self._spec.name)
            return
        with self._shadow_lock:
            self._shadow.update(updates)
        self._on_loop(lambda: self._deliver(updates, answer=False))

    def open_task(self, task: int) -> None:
        """Show this task (as when it is opened from the task board)."""
        self._on_request({"id": f"open-{task}", "action": "open", "task": int(task)})

    def reload(self) -> None:
        """Read everything again from the database (as the browser's refresh button does)."""
        self._run(self._controller.refresh)

    def follow_saves(self) -> None:
        """Read again what a save made below this widget changes (its controller's
        ``progressed``; everything when it has none)."""
        self._run(getattr(self._controller, "progressed", self._controller.refresh))

    def _on_request(self, request: dict[str, Any]) -> None:
        if request:
            found = request.get("id")
            write_id = found if writes.is_write_id(found) else None
            self._run(lambda state: self._controller.handle(checked(request), state), write_id)

    def _on_watched(self) -> None:
        if not getattr(self, "_applying", False):
            self._run(self._controller.refresh)


def checked(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` when every value in it is clean JSON (64-bit integers, finite numbers, text
    without NUL characters or lone surrogates, within the length limit); else the library's
    :class:`ValidationError` naming the value, before any controller reads it."""
    if problem := json_problem(request):
        raise ValidationError(f"bad request: it {problem}")
    return request


def _read_from_the_request(exc: BaseException) -> bool:
    """Whether ``exc`` came from a controller reading a request (``int(request["task"])`` on a
    missing or non-numeric field): raised in a widget module's own code, not in a service."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and Path(frame.tb_frame.f_code.co_filename).parent == HERE


def _what(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"the request has no field {exc.args[0]!r}" if exc.args else "a field is missing"
    return f"a field of the wrong kind ({exc})"


def notebook_class(spec: Spec) -> type:
    """The ``anywidget.AnyWidget`` class of a widget (JupyterLab, VS Code, Colab...)."""
    import anywidget
    import traitlets

    kinds = {
        str: traitlets.Unicode,
        int: traitlets.Int,
        bool: traitlets.Bool,
        list: traitlets.List,
        dict: traitlets.Dict,
        float: traitlets.Float,
    }
    body: dict[str, Any] = {
        name: kinds[t.kind](t.default, help=t.doc).tag(sync=True)
        for name, t in spec.all_traits.items()
    }
    body["_esm"] = spec.module()
    if spec.css:
        body["_css"] = spec.css

    def init(self: Any, workspace: Workspace, **options: Any) -> None:
        anywidget.AnyWidget.__init__(self)
        self._start(spec, workspace, options)
        self.observe(lambda change: self._on_request(change["new"]), names=["_request"])
        self.observe(lambda _change: self._on_watched(), names=list(self._controller.watched))
        # requests the page sends as messages (`model.send`): none overwrites another
        self.on_msg(lambda _widget, content, _buffers: self._on_request(content))

    def set_many(self: Any, updates: dict[str, Any]) -> None:
        with self.hold_sync():  # one comm message for the whole answer
            for name, value in updates.items():
                setattr(self, name, value)

    body["__init__"] = init
    body["_set_many"] = set_many
    body["__repr__"] = _described
    body["__doc__"] = spec.doc
    return type(spec.name, (_Driver, anywidget.AnyWidget), body)


def _described(self: Any) -> str:
    """What a widget is, as text: what a saved notebook shows where the widget was ("TaskDetail:
    task #3, as maya"), instead of an object address."""
    shown = [
        f"{name} #{value}" for name in ("task", "dataset") if (value := getattr(self, name, 0))
    ]
    who = getattr(self, "user", "")
    return f"{self._spec.name}: " + ", ".join([*shown, f"as {who}" if who else "no user"])


def saved_traits(mode: str) -> list[str]:
    """What changes when an annotator or a review form saved something (not when its playhead
    moves): the details reload then."""
    return ["segments"] if mode == "annotate" else ["verdicts", "status", "round"]
