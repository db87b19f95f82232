"""Installed plug-ins, looked up once per process.

``importlib.metadata.entry_points()`` re-reads the metadata of every installed distribution on
each call (~20 ms with a couple of hundred packages), so readers and exporters ask here: the
first call reads every group at once, later ones reuse what it found. :func:`forget` makes the
next call read again (after installing a plug-in in a running process).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, EntryPoints, entry_points


@cache
def _everything() -> EntryPoints:
    return entry_points()


@cache
def installed(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of ``group`` installed in this environment (read once per process)."""
    return tuple(_everything().select(group=group))


def forget() -> None:
    """Look the installed plug-ins up again on the next call."""
    _everything.cache_clear()
    installed.cache_clear()
