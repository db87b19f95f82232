"""Export formats by name: the built-in writers, plugins from the ``annotation_kit.exporters``
entry point group, and any registered at run time.

A writer is a function ``write(plan, folder, **options)`` that writes ``plan`` into the empty
local folder ``folder`` and may return a dict of extra counts. It never touches the
destination: the caller moves the folder into place once the writer has returned.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..store._plugins import installed

Writer = Callable[..., dict[str, Any] | None]
GROUP = "annotation_kit.exporters"

BUILTIN = {
    "json": "annotation_kit.exports.records:write_json",
    "csv": "annotation_kit.exports.records:write_csv",
    "mcap": "annotation_kit.exports.mcap:write",
    "hdf5": "annotation_kit.exports.hdf5:write",
    "lerobot": "annotation_kit.exports.lerobot:write",
}
_registered: dict[str, Writer] = {}


def register(name: str, writer: Writer) -> None:
    """Make ``writer`` the exporter called ``name`` in this process."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValidationError(f"an exporter name is letters, digits, - and _; got {name!r}")
    if not callable(writer):
        raise ValidationError(f"exporter {name!r} must be callable")
    _registered[name] = writer


def exporters() -> list[str]:
    """Every exporter name known: built-in, installed plugins and registered ones."""
    names = set(BUILTIN) | set(_registered)
    names |= {e.name for e in installed(GROUP)}
    return sorted(names)


def exporter(name: str | Writer) -> Writer:
    """The writer called ``name`` (or ``name`` itself when it is a callable: a one-off shape)."""
    if callable(name):
        return name
    if name in _registered:
        return _registered[name]
    target = BUILTIN.get(name)
    if target is None:
        found = [e for e in installed(GROUP) if e.name == name]
        if not found:
            raise ValidationError(
                f"unknown export format {name!r}; known: {', '.join(exporters())}"
            )
        return found[0].load()
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def check_options(name: str, writer: Writer, options: dict[str, Any]) -> None:
    """Refuse options the writer does not take, naming them and the ones it does."""
    params = list(inspect.signature(writer).parameters.values())[2:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    known = [p.name for p in params]
    if unknown := sorted(set(options) - set(known)):
        raise ValidationError(
            f"the {name} export has no option {', '.join(map(repr, unknown))}; "
            f"its options: {', '.join(known) or 'none'}"
        )


def precheck(writer: Writer, plan: Any, options: dict[str, Any]) -> None:
    """Run the writer's own check of its options against ``plan`` (its ``check`` attribute,
    given every option with the writer's defaults), before anything is recorded or written."""
    check = getattr(writer, "check", None)
    if not callable(check):
        return
    bound = inspect.signature(writer).bind_partial(plan, None, **options)
    bound.apply_defaults()
    given = dict(list(bound.arguments.items())[2:])
    plan.checked = check(plan, **given)


def write_with(writer: Writer, plan: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Run ``writer`` on ``plan`` into ``folder``; what it reports, as a dict."""
    return dict(writer(plan, folder, **options) or {})
