"""The served Statistics page's charts, drawn in a process of their own.

plotly builds a figure in pure Python, checking every property against its schema: the overview's
seven charts take most of a second of interpreter time. In the server process that second is
taken from everyone else (the interpreter runs one thread at a time), so a manager opening
Statistics made twenty annotators' saves wait up to half a second. Served pages therefore have
:func:`overview` drawn in one process beside each server process (started with ``serve``, or
on first use in each of ``--num-procs``' processes), which opens the workspace itself and sends
each figure back as plotly's JSON; the server takes it up again without checking it twice (a
few milliseconds). Notebooks call :func:`annotation_kit.quality.charts.overview` directly.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from ..jobs.worker import stop_with

if TYPE_CHECKING:
    from ..workspace import Workspace

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_opened: dict[tuple[str, str], Workspace] = {}
"""In the drawing process: each workspace it was asked about, opened once."""


def overview(workspace: Workspace, **chosen: Any) -> dict[str, Any]:
    """``charts.overview(workspace, **chosen)``, drawn in the drawing process; blocks until
    drawn (call it off the event loop). The library's refusals come back as they were raised."""
    import plotly.graph_objects as go

    try:
        drawn = _executor().submit(_draw, workspace.url, workspace.user, chosen).result()
    except BrokenProcessPool:  # the process died (killed, out of memory): a new one, once
        _forget()
        drawn = _executor().submit(_draw, workspace.url, workspace.user, chosen).result()
    return {
        name: go.Figure(data=figure["data"], layout=figure["layout"], _validate=False)
        for name, figure in drawn.items()
    }


def start() -> None:
    """Start the drawing process now and have it import what drawing needs (a few seconds of
    its own), so that the first Statistics page does not wait for that."""
    _executor().submit(_ready)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:  # spawned, not forked: the server has threads holding locks
            _pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=stop_with,
                initargs=(os.getpid(),),
            )
        return _pool


def _ready() -> None:
    """In the drawing process: the imports and plotly's first figure (its templates load)."""
    import plotly.express as px

    from ..quality import analytics, charts  # noqa: F401 - imported for what they import

    px.bar(x=[0], y=[0], template=charts._LAYOUT["template"])


def _forget() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _draw(url: str, user: str, chosen: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """In the drawing process: the figures as plotly JSON."""
    from ..quality import charts
    from ..store.database import Database
    from ..workspace import Workspace

    workspace = _opened.get((url, user))
    if workspace is None:
        workspace = _opened[url, user] = Workspace(Database.open(url, upgrade=False), user)
    return {
        name: figure.to_plotly_json()
        for name, figure in charts.overview(workspace, **chosen).items()
    }
