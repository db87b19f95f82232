"""The broker: huey on an SQLite file (the embedded default) or Redis (a team's), carrying job
ids only. Messages name the workspace without its password; a worker resolves it to the URL it
was started with. The broker knows nothing of what a job does: the worker installs the
function that runs one (:func:`serve_with`).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..store.database import create_private

QUEUE_ENV = "ANNOTATION_KIT_QUEUE"
NAME = "annotation_kit"
_EXECUTE: Callable[[int, str, str], Any] | None = None


def serve_with(execute: Callable[[int, str, str], Any]) -> None:
    """Install the function a worker runs for each message: ``execute(job, url, queue_url)``."""
    global _EXECUTE
    _EXECUTE = execute


def default_queue(workspace_url: str) -> str:
    """``$ANNOTATION_KIT_QUEUE``, else ``queue.db`` beside an SQLite workspace (or in the user
    data folder for a PostgreSQL one)."""
    if url := os.environ.get(QUEUE_ENV):
        return url
    if workspace_url.startswith("sqlite:///"):
        folder = Path(workspace_url.removeprefix("sqlite:///")).parent
    else:
        import platformdirs

        folder = Path(platformdirs.user_data_dir("annotation-kit"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'queue.db'}"


def _storages() -> tuple[type, type]:
    """huey's SQLite and Redis storages, each with a bulk ``enqueue_many``: huey enqueues one
    message per transaction (SQLite) or round trip (Redis); batches of jobs (``enqueue_many``,
    resume, batch retry) go in one. Same tables and keys as huey's own ``enqueue``."""
    from huey.storage import RedisStorage, SqliteStorage

    class Sqlite(SqliteStorage):
        def enqueue_many(self, messages: list[bytes]) -> None:
            with self.db(commit=True) as cursor:
                cursor.executemany(
                    "insert into task (queue, data, priority) values (?, ?, ?)",
                    [(self.name, self.to_blob(m), 0) for m in messages],
                )

    class Redis(RedisStorage):
        def enqueue_many(self, messages: list[bytes]) -> None:
            for start in range(0, len(messages), 1000):
                self.conn.lpush(self.queue_key, *messages[start : start + 1000])

    return Sqlite, Redis


def _transport() -> type:
    """huey as the transport of job ids. Cancelling a job is the ledger's business (its claim
    then fails), so huey's own revocation is left out: it costs a read and a delete on the
    broker for every message (on the SQLite queue, the delete is a write transaction)."""
    from huey import Huey

    class Transport(Huey):
        def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
            return False

        def delete(self, key: str) -> bool:  # called only to clear revocation flags here
            return False

    return Transport


@functools.cache
def engine(queue_url: str) -> tuple[Any, Any]:
    """The huey instance of ``queue_url`` and its one task, ``run(job_id, workspace_url)``."""
    Huey = _transport()  # noqa: N806
    sqlite, redis = _storages()
    if queue_url.startswith("redis://"):
        huey = Huey(NAME, storage_class=redis, url=queue_url, results=False)
    elif queue_url.startswith("sqlite:///"):
        filename = queue_url.removeprefix("sqlite:///")
        create_private(Path(filename))
        huey = Huey(NAME, storage_class=sqlite, filename=filename, results=False)
    else:
        raise ValidationError(
            f"queue URL must be sqlite:///<file> or redis://..., got {queue_url!r}"
        )

    @huey.task(name="annotation_kit.run")
    def run(job: int, workspace_url: str) -> None:
        if _EXECUTE is None:
            raise RuntimeError("this process is not a worker (annotation-kit worker)")
        _EXECUTE(job, _resolve(workspace_url), queue_url)

    return huey, run


_OWN_URLS: dict[str, str] = {}
"""The workspace URLs this process was given, by the form messages carry (no password)."""


def public_url(workspace_url: str) -> str:
    """``workspace_url`` with its password hidden: what a queue message carries. A worker
    finds the full URL in its own configuration (``--url`` / ``$ANNOTATION_KIT_URL``)."""
    from sqlalchemy import make_url

    from ..store.database import normalise

    try:
        workspace_url = normalise(workspace_url)
        shown = make_url(workspace_url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: nothing to hide in it
        return workspace_url
    _OWN_URLS[shown] = workspace_url
    return shown


def _resolve(sent: str) -> str:
    if sent in _OWN_URLS:
        return _OWN_URLS[sent]
    if "***" in sent:
        raise ValidationError(
            f"this worker has no credentials for {sent}: start a worker for that workspace "
            "with its URL (annotation-kit worker --url ... or $ANNOTATION_KIT_URL)"
        )
    return sent  # a URL without a password (an SQLite file, trust auth): open it as it is


def send(queue_url: str, workspace_url: str, ids: list[int], eta: datetime | None = None) -> None:
    """Hand job ids to the workers (many in one write to the broker); messages carry the
    workspace URL without its password."""
    huey, run = engine(queue_url)
    workspace_url = public_url(workspace_url)
    if eta is not None:
        for job in ids:
            run.schedule(args=(job, workspace_url), eta=eta)
    elif len(ids) == 1:
        run(ids[0], workspace_url)
    elif ids:
        huey.storage.enqueue_many([huey.serialize_task(run.s(job, workspace_url)) for job in ids])


def queued_ids(huey: Any) -> set[int]:
    """The job ids of the messages waiting on the broker."""
    found = set()
    for message in huey.storage.enqueued_items():
        with contextlib.suppress(Exception):  # another application's message
            found.add(int(huey.deserialize_task(message).args[0]))
    return found
