"""Installed plug-ins, looked up once per process.

``importlib.metadata.entry_points()`` re-reads the metadata of every installed distribution on
each call (~20 ms with a couple of hundred packages), so readers and exporters ask here: the
first call reads every group at once, later ones reuse what it found. :func:`forget` makes the
next call read again (after installing a plug-in in a running process). :func:`extra` imports
a package of an optional part, or says which extra installs it.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from types import ModuleType

from ..errors import MissingExtra

EXTRAS = {
    "serve": "the served app and the Panel widgets (panel)",
    "charts": "charts and their PNG images (plotly, kaleido)",
    "s3": "object storage: S3, MinIO (s3fs)",
    "postgres": "PostgreSQL workspaces (psycopg, DuckDB's postgres scanner)",
    "lab": "JupyterLab",
}
"""The optional parts (``pip install 'annotation-kit[NAME]'``; ``[all]`` installs them all)."""


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


def extra(name: str, module: str, what: str) -> ModuleType:
    """``module``, imported; a :class:`MissingExtra` naming the extra ``name`` when it is not
    installed (``what``: what needed it, e.g. "annotation-kit serve")."""
    try:
        return import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or module.split(".")[0] != exc.name.split(".")[0]:
            raise
        raise MissingExtra(
            f"{what} needs the {name!r} extra ({EXTRAS[name]}), which is not installed: "
            f"pip install 'annotation-kit[{name}]'"
        ) from None
