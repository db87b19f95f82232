"""Job kinds by name, like exporters: each is ``fn(ws, ctx, **params) -> result dict`` and
owns its parameters (what the ledger stores is what ``enqueue`` was given, as JSON; a kind
decodes what it needs). Built in: ``export``, ``import``, ``check``, ``noop`` and ``sleep``
(tests and benchmarks); :func:`register` adds one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import AnnotationKitError, ValidationError

Kind = Callable[..., dict[str, Any]]


class Cancelled(AnnotationKitError):
    """The job was cancelled while it ran."""


class Context:
    """What a running job may tell the ledger: progress and log lines (and learn it was
    cancelled: :meth:`progress` raises :class:`Cancelled`)."""

    def __init__(self, job: int, report: Callable[[float | None, str | None], bool]) -> None:
        self.job, self._report = job, report

    def progress(self, fraction: float | None = None, line: str | None = None) -> None:
        """Report progress (a fraction) and/or a log line; raises :class:`Cancelled` if the job was
        cancelled."""
        if self._report(fraction, line):
            raise Cancelled(f"job #{self.job} was cancelled")

    def log(self, line: str) -> None:
        """Add a line to the job's log."""
        self.progress(None, line)


def _export(ws: Any, ctx: Context, **params: Any) -> dict[str, Any]:
    ctx.log(f"export of task(s) {params.get('tasks')} as {params.get('format')}")
    changed = params.pop("changed_between", None)
    if changed:
        params["changed_between"] = tuple(datetime.fromisoformat(v) if v else None for v in changed)
    record = ws.export(progress=ctx.progress, job=ctx.job, **params)
    return {"export": record.id, "counts": record.counts, "destination": record.destination}


def _encode_export(
    tasks: int | list[int], format: Any, destination: Any, **options: Any
) -> dict[str, Any]:
    """What ``ws.export(..., background=True)`` puts in the ledger: JSON only."""
    if not isinstance(format, str):
        raise ValidationError("a background export needs a format name, not a function")
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    if options.get("changed_between"):
        options["changed_between"] = [
            v.isoformat() if isinstance(v, datetime) else v for v in options["changed_between"]
        ]
    listed = [tasks] if isinstance(tasks, int) else list(tasks)
    return {"tasks": listed, "format": format, "destination": str(destination), **options}


def _import(ws: Any, ctx: Context, *, sources: list[str], **options: Any) -> dict[str, Any]:
    ctx.log(f"import of {len(sources)} source(s)")
    report = ws.import_datasets(sources, progress=False, **options)
    return {"dataset_ids": list(report.dataset_ids), "failed": [str(f) for f in report.failed]}


def _check(
    ws: Any, ctx: Context, *, datasets: list[int] | None = None, project: Any = None
) -> dict[str, Any]:
    ctx.log("data checks of " + (f"{len(datasets)} dataset(s)" if datasets else f"{project}"))
    outcome = ws.checks.run(datasets, project=project)
    return {"status": {str(k): v for k, v in outcome.items()}}


def _noop(ws: Any, ctx: Context, **params: Any) -> dict[str, Any]:
    return {}


def _sleep(
    ws: Any, ctx: Context, *, seconds: float = 1.0, fail: bool = False, quiet: bool = False
) -> dict[str, Any]:
    steps = max(1, int(seconds / 0.1))
    for i in range(steps):
        time.sleep(seconds / steps)
        if i % 5 == 0 and not quiet:
            ctx.progress((i + 1) / steps)
    if fail:
        raise RuntimeError("asked to fail")
    return {"slept": seconds}


_KINDS: dict[str, Kind] = {
    "export": _export,
    "import": _import,
    "check": _check,
    "noop": _noop,
    "sleep": _sleep,
}


_ENCODERS: dict[str, Callable[..., dict[str, Any]]] = {"export": _encode_export}
_QUIET: set[str] = {"noop", "sleep"}
"""Kinds whose end nobody is told of (test and benchmark jobs): no audit event, no
notification."""


def register(
    name: str,
    fn: Kind,
    *,
    encode: Callable[..., dict[str, Any]] | None = None,
    tell: bool = True,
) -> None:
    """Add a job kind (workers must import the module that registers it); ``encode(**params)``
    turns what ``enqueue`` is given into the JSON the ledger stores (default: as given);
    ``tell``: its end goes in the audit log, so its owner is notified."""
    _KINDS[name] = fn
    if encode is not None:
        _ENCODERS[name] = encode
    if tell:
        _QUIET.discard(name)
    else:
        _QUIET.add(name)


def tells(name: str) -> bool:
    """Whether the end of a job of kind ``name`` is recorded for its owner to be told of."""
    return name not in _QUIET


def encode(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a job of kind ``name`` as the ledger stores them."""
    encoder = _ENCODERS.get(name)
    return encoder(**params) if encoder is not None else params


def names() -> list[str]:
    """The registered job kinds."""
    return sorted(_KINDS)


def get(name: str) -> Kind:
    """The function of the job kind ``name``."""
    return _KINDS[name]
