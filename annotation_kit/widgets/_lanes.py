"""Served widgets' work, off the server's event loop and in each widget's own order.

Every widget served by ``panel serve`` has a :class:`Lane`: its requests, refreshes and
follow-up work run one after another, in the order they arrived, on a thread pool the server
process shares (``ANNOTATION_KIT_THREADS``, 4 by default). The event loop only routes
messages: a slow query, a password hash or a frame decode in one person's page no longer holds
up everyone else's. A lane gives its thread back after each job, so a person sending many saves
takes turns with the others rather than holding a thread. Work a lane has accepted runs to the
end even when the tab that sent it closes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
THREADS_ENV = "ANNOTATION_KIT_THREADS"
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's pool (made on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            size = max(1, int(os.environ.get(THREADS_ENV) or 4))
            _pool = ThreadPoolExecutor(size, thread_name_prefix="annotation_kit-lane")
        return _pool


class Lane:
    """Jobs run one at a time, in order, on the shared pool."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._running = False

    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._jobs.append(job)
            if self._running:
                return
            self._running = True
        pool().submit(self._next)

    def _next(self) -> None:
        with self._lock:
            job = self._jobs.popleft()
        try:
            job()
        except Exception:  # a job reports its own failures; this is the last net
            log.exception("%s: a job failed", self.name)
        with self._lock:
            if not self._jobs:
                self._running = False
                return
        pool().submit(self._next)  # to the back of the pool's queue: the others' turn
