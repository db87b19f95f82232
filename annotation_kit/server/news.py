"""News between server processes: an event that concerns people (an assignment, a submit, a
verdict, a finished job — :func:`annotation_kit.events.news_worthy`) reaches the pages every
server process holds, wherever it was written — another process, another machine, a notebook,
a worker.

On PostgreSQL the writer's transaction ``NOTIFY``-s and one connection per server process
``LISTEN``-s; on SQLite (one machine) one query a second per process looks for new such
events. Either way one watcher per process, not a loop per page: the pages that asked
(:func:`watch`) are told, and each reads what it shows again on its own lane.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable

from sqlalchemy import func, select

from ..database import Database
from ..events import CHANNEL, NEWS
from ..models import Event

log = logging.getLogger(__name__)
POLL_S = 1.0
"""SQLite: how often this process looks for new events."""
_watchers: weakref.WeakSet[_Watcher] = weakref.WeakSet()
_lock = threading.Lock()
_started: list[Database] = []


class _Watcher:
    def __init__(self, tell: Callable[[], None]) -> None:
        self.tell = tell


def watch(owner: object, tell: Callable[[], None]) -> None:
    """Call ``tell`` (from the watcher's thread) whenever there is news, for as long as
    ``owner`` (a page's widget) lives."""
    watcher = _Watcher(tell)
    with _lock:
        _watchers.add(watcher)
    # the watcher lives as long as its owner, and no longer
    setattr(owner, "_news_watcher", watcher)  # noqa: B010


def _tell_everyone() -> None:
    with _lock:
        watchers = list(_watchers)
    for watcher in watchers:
        try:
            watcher.tell()
        except Exception:
            log.exception("a page could not be told the news")


def start(db: Database) -> None:
    """Start this process's watcher (once)."""
    with _lock:
        if _started:
            return
        _started.append(db)
    target = _listen if db.engine.dialect.name == "postgresql" else _poll
    threading.Thread(target=target, args=(db,), name="annotation_kit-news", daemon=True).start()


def _listen(db: Database) -> None:
    import psycopg

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                _tell_everyone()  # whatever happened while we were not listening
                for _note in conn.notifies():
                    _tell_everyone()
        except Exception as exc:  # the database restarted: listen again
            log.warning("news: listening on PostgreSQL failed (%s); again in 2 s", exc)
            time.sleep(2)


def _poll(db: Database) -> None:
    actions = sorted(NEWS)
    last = None
    while True:
        time.sleep(POLL_S)
        with contextlib.suppress(Exception):  # locked or gone for a moment: next round
            with db.transaction(write=False) as session:
                newest = session.scalar(select(func.max(Event.id))) or 0
                if last is None:
                    last = newest
                    continue
                if newest <= last:
                    continue
                worthy = session.scalar(
                    select(Event.id).where(Event.id > last, Event.action.in_(actions)).limit(1)
                )
            last = newest
            if worthy is not None:
                _tell_everyone()
