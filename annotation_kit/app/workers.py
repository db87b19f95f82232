"""Workers that come with the server: ``annotation-kit serve --workers N`` starts a worker
process (``annotation-kit worker``, N jobs at once) beside the dashboards, on the same
workspace and queue, and stops it with the server — so a manager's first export runs on a
fresh embedded set-up without a second terminal. A team runs ``annotation-kit worker`` on
other machines instead (``--workers 0``).

The worker ends when the server process ends, however it ends: it is stopped at the server's
normal exit, and it watches its parent (``--parent``) and stops itself when the server is gone
(killed)."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

SQLITE_DEFAULT = 1
"""Workers started on an embedded (SQLite) workspace when not told: exports just work."""


def how_many(url: str, asked: int | None) -> int:
    """Workers to start: as asked, else one on SQLite and none for a team's PostgreSQL (whose
    workers run on machines of their own)."""
    if asked is not None:
        if asked < 0:
            raise ValueError(f"--workers is a number of jobs at once, 0 or more, not {asked}")
        return asked
    return SQLITE_DEFAULT if url.startswith("sqlite") else 0


def start(url: str, queue: str, jobs: int) -> subprocess.Popen[bytes] | None:
    """Start the worker process (``jobs`` at once), stopped when this process exits."""
    if jobs <= 0:
        return None
    command = [sys.executable, "-m", "annotation_kit.cli", "worker", "--url", url]
    command += ["--queue", queue, "--workers", str(jobs), "--parent", str(os.getpid())]
    process = subprocess.Popen(command)
    atexit.register(stop, process, os.getpid())
    return process


def stop(process: subprocess.Popen[bytes], owner: int, timeout: float = 30) -> None:
    """Ask the worker to stop (running jobs finish or are handed back), then make sure; only
    from the process that started it (not a server process forked from it)."""
    if os.getpid() != owner or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
