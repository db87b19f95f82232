"""News between server processes: an event that concerns people (an assignment, a submit, a
verdict, a finished job — :func:`annotation_kit.access.events.news_worthy`) reaches the pages every
server process holds, wherever it was written — another process, another machine, a notebook,
a worker.

On PostgreSQL the writer's transaction ``NOTIFY``-s and one connection per server process
``LISTEN``-s; on SQLite (one machine) one query a second per process looks for new such
events. Either way one watcher per process, not a loop per page: the pages that asked
(:func:`watch`) are told, and each reads what it shows again on its own lane.

Only the pages the news may change are told: news of tasks (an assignment, a submit, a pass...)
and of jobs reaches every page, a verdict on an annotation only its author's pages (their
notifications), not the pages of everyone else — a reviewer judging every 2 s had every open
page of the team read its board again every 2 s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable

from sqlalchemy import func, select

from ..access.events import CHANNEL, NEWS
from ..store.database import Database
from ..store.models import Annotation, Event, User

log = logging.getLogger(__name__)
POLL_S = 1.0
"""SQLite: how often this process looks for new events."""
NEWS_READ = 500
"""SQLite: at most this many new events are read a round; more, and every page is told."""
_watchers: weakref.WeakSet[_Watcher] = weakref.WeakSet()
_lock = threading.Lock()
_started: list[Database] = []


class _Watcher:
    def __init__(self, tell: Callable[[], None], person: str) -> None:
        self.tell = tell
        self.person = person


EVERYONE = None
"""News that may concern every page (tasks, jobs, or not known in detail)."""


def watch(owner: object, tell: Callable[[], None], person: str) -> None:
    """Call ``tell`` (from the watcher's thread) whenever there is news that may concern
    ``person``'s page, for as long as ``owner`` (a page's widget) lives."""
    watcher = _Watcher(tell, person)
    with _lock:
        _watchers.add(watcher)
    # the watcher lives as long as its owner, and no longer
    setattr(owner, "_news_watcher", watcher)  # noqa: B010


def _tell(people: set[str] | None) -> None:
    """Tell the pages of ``people`` (:data:`EVERYONE`: every page)."""
    with _lock:
        watchers = list(_watchers)
    for watcher in watchers:
        if people is not None and watcher.person not in people:
            continue
        try:
            watcher.tell()
        except Exception:
            log.exception("a page could not be told the news")


def _tell_everyone() -> None:
    _tell(EVERYONE)


def _concerned(db: Database, news: list[tuple[str, str, int]]) -> set[str] | None:
    """Whose pages the news ``(object_type, action, object_id)`` may change: the authors of
    the annotations judged, or :data:`EVERYONE` when any of it is about tasks or jobs."""
    if not news or any(kind != "annotation" for kind, _action, _id in news):
        return EVERYONE
    with db.transaction(write=False) as session:
        return set(
            session.scalars(
                select(User.name)
                .join(Annotation, Annotation.author_id == User.id)
                .where(Annotation.id.in_({object_id for _kind, _action, object_id in news}))
            )
        )


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
                for note in conn.notifies():
                    _tell(_concerned(db, _parsed(note.payload)))
        except Exception as exc:  # the database restarted: listen again
            log.warning("news: listening on PostgreSQL failed (%s); again in 2 s", exc)
            time.sleep(2)


def _parsed(payload: str) -> list[tuple[str, str, int]]:
    """``object_type:object_id:action`` (:func:`annotation_kit.access.events.record`'s NOTIFY)."""
    kind, _, rest = payload.partition(":")
    object_id, _, action = rest.partition(":")
    return [(kind, action, int(object_id))] if object_id.isdigit() else []


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
                worthy = session.execute(
                    select(Event.object_type, Event.action, Event.object_id)
                    .where(Event.id > last, Event.id <= newest, Event.action.in_(actions))
                    .limit(NEWS_READ)
                ).all()
            last = newest
            if worthy:
                news = [(str(k), str(a), int(i)) for k, a, i in worthy]
                _tell(EVERYONE if len(worthy) == NEWS_READ else _concerned(db, news))
