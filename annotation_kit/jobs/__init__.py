"""Background jobs: the ledger in the shared database, the broker that carries job ids to the
workers, the workers themselves, and what a workspace sees of it all.

- :mod:`.ledger`: the job rows and the admin operations (services: the session first);
- :mod:`.claims`: a worker's claim, finish and heartbeat, one compiled statement each;
- :mod:`.kinds`: job kinds by name (``export``, ``import``, ``check``...), like exporters;
- :mod:`.broker`: huey on an SQLite file or Redis, carrying job ids only;
- :mod:`.worker`: ``annotation-kit worker``: runs jobs, beats, keeps house;
- :mod:`.housekeeping`: reaping lost jobs and re-sending lost messages;
- :mod:`.queue`: ``ws.queue`` (:class:`Queue`) and :class:`JobHandle`.
"""

from ..store.states import FINISHED
from .claims import Ledger, worker_name
from .kinds import Cancelled, Context, register
from .ledger import (
    LOST_AFTER,
    RETRY_BATCH,
    STATES,
    beat,
    cancel,
    clean,
    clear,
    create,
    create_many,
    get,
    list_jobs,
    pause,
    reap,
    reap_ids,
    require_admin,
    resume,
    retry,
    retry_failed,
    status,
)
from .queue import JobHandle, Queue

__all__ = [
    "FINISHED",
    "LOST_AFTER",
    "RETRY_BATCH",
    "STATES",
    "Cancelled",
    "Context",
    "JobHandle",
    "Ledger",
    "Queue",
    "beat",
    "cancel",
    "clean",
    "clear",
    "create",
    "create_many",
    "get",
    "list_jobs",
    "pause",
    "reap",
    "reap_ids",
    "register",
    "require_admin",
    "resume",
    "retry",
    "retry_failed",
    "status",
    "worker_name",
]
