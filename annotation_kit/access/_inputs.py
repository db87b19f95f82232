"""The check every service call passes before it reaches the database: each argument against
the type its function declares.

A workspace's services (``ws.tasks.create(...)``) are what notebooks, widgets and dashboards
call, so this is where input from people arrives. Before a transaction starts, every argument
is checked against its parameter's annotation: integers fit in 64 bits (and are not ``True``),
text is text without NUL characters or lone surrogates and at most ``TEXT_MAX`` long, a list is
a list (a bare string is not a list of labels), datetimes carry a time zone, JSON holds only
finite numbers and clean text. A value that does not fit is a :class:`ValidationError` naming
the parameter; the service's own rules (name lengths, known roles...) apply after this.
Parameters whose type is not one of these (ORM objects, files) are left to the service.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from ..errors import ValidationError
from ..store.models import TEXT_MAX

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_SEQUENCES = ("Sequence", "Iterable", "list", "tuple", "set", "frozenset")


def check_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` for the first argument that does not fit its type."""
    signature, checks = _checks(fn)
    try:
        bound = signature.bind_partial(None, *args, **kwargs)  # None stands for the session
    except TypeError as exc:
        raise ValidationError(f"{fn.__name__}: {exc}") from None
    for name, value in bound.arguments.items():
        if name in checks:
            problem = checks[name](value)
            if problem:
                raise ValidationError(f"{fn.__name__}: {name} {problem}")


@functools.cache
def _checks(fn: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Callable[[Any], str]]]:
    signature = inspect.signature(fn)
    checks = {}
    for name, parameter in list(signature.parameters.items())[1:]:
        annotation = parameter.annotation
        if name == "by" or not isinstance(annotation, str):
            continue
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        check = _for(annotation)
        if check is not None:
            checks[name] = check
    return signature, checks


def _split(annotation: str, separator: str) -> list[str]:
    """``annotation`` split at ``separator`` outside brackets."""
    parts, depth, current = [], 0, ""
    for char in annotation:
        depth += char == "["
        depth -= char == "]"
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _for(annotation: str) -> Callable[[Any], str] | None:
    """A function returning what is wrong with a value of type ``annotation`` ("" if nothing),
    or None when the type is not one we check."""
    members = _split(annotation, "|")
    accepts: list[Callable[[Any], str]] = []
    for member in members:
        accept = _member(member)
        if accept is None:
            return None
        accepts.append(accept)

    def check(value: Any) -> str:
        problems = [accept(value) for accept in accepts]
        if "" in problems:
            return ""
        specific = [p for p in problems if not p.startswith("must be")]
        if specific:
            return specific[0]
        names = " or ".join(dict.fromkeys(_NAMES.get(m.partition("[")[0], m) for m in members))
        return f"must be {names}, got {_describe(value)}"

    return check


def _member(member: str) -> Callable[[Any], str] | None:
    base, _, rest = member.partition("[")
    inner = rest[:-1] if rest else ""
    simple = _SIMPLE.get(base)
    if simple is not None:
        return simple
    if base in ("Status", "Action", "Role", "Decision", "Provenance"):  # str enums
        return _text
    if base in ("TaskRef", "Task"):
        return _task if base == "Task" else _task_ref
    if base in _SEQUENCES and inner:
        items = _split(inner, ",")
        if base == "tuple" and len(items) > 1 and "..." not in items:
            item_checks = [check for i in items if (check := _for(i)) is not None]
            if len(item_checks) < len(items):
                return None
            return functools.partial(_tuple, item_checks)
        item_check = _for(items[0])
        if item_check is None:
            return None
        return functools.partial(_sequence, item_check)
    if base == "dict" and inner:
        return _json_object
    return None


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _none(value: Any) -> str:
    return "" if value is None else "must be None"


def _int(value: Any) -> str:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        return f"must be an integer, got {_describe(value)}"
    if not INT_MIN <= int(value) <= INT_MAX:
        return f"is {value}, outside the 64-bit integer range"
    return ""


def _task(value: Any) -> str:
    from ..store.models import Task

    return "" if isinstance(value, Task) else f"must be a task, got {_describe(value)}"


def _task_ref(value: Any) -> str:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return _int(value)
    return _task(value) and f"must be a task id or a task, got {_describe(value)}"


def _float(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"must be a number, got {_describe(value)}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    return ""


def _bool(value: Any) -> str:
    return "" if isinstance(value, bool) else f"must be True or False, got {_describe(value)}"


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str):
        return f"must be text, got {_describe(value)}"
    return text_problem(value)


def text_problem(value: str) -> str:
    """What makes ``value`` unstorable as text on either backend ("" if nothing)."""
    if len(value) > TEXT_MAX:
        return f"is {len(value)} characters long; the limit is {TEXT_MAX}"
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return ""


def _datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        return f"must be a datetime, got {_describe(value)}"
    if value.tzinfo is None or value.utcoffset() is None:
        return "must carry a time zone (e.g. datetime(..., tzinfo=timezone.utc))"
    return ""


def _sequence(item: Callable[[Any], str], value: Any) -> str:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        return f"must be a list, got {_describe(value)}"
    for i, element in enumerate(value if isinstance(value, (list, tuple)) else list(value)):
        if problem := item(element):
            return f"item {i} {problem}"
    return ""


def _tuple(items: list[Callable[[Any], str]], value: Any) -> str:
    if not isinstance(value, (tuple, list)) or len(value) != len(items):
        return f"must be a pair of values, got {_describe(value)}"
    for i, (check, element) in enumerate(zip(items, value, strict=True)):
        if problem := check(element):
            return f"item {i} {problem}"
    return ""


def _json_object(value: Any) -> str:
    if not isinstance(value, dict):
        return f"must be a dict, got {_describe(value)}"
    return json_problem(value)


def json_problem(value: Any, where: str = "") -> str:
    """What keeps ``value`` from being stored as the same JSON on SQLite and PostgreSQL."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return (
            ""
            if INT_MIN <= value <= INT_MAX
            else f"holds {value}{where}, outside the 64-bit integer range"
        )
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"holds {value}{where}, which JSON cannot store"
    if isinstance(value, str):
        problem = text_problem(value)
        return f"holds text{where} that {problem}" if problem else ""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"has a key {key!r}{where} that is not text"
            if problem := text_problem(key):
                return f"has a key{where} that {problem}"
            if problem := json_problem(item, f"{where}.{key}" if where else f" at {key!r}"):
                return problem
        return ""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if problem := json_problem(item, f"{where}[{i}]"):
                return problem
        return ""
    return f"holds a {type(value).__name__}{where}, which is not JSON"


_SIMPLE: dict[str, Callable[[Any], str]] = {
    "None": _none,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "str": _text,
    "datetime": _datetime,
    "Path": lambda v: "" if isinstance(v, PurePath) else "must be a path",
    "Any": lambda v: "",
}

_NAMES = {
    "None": "None",
    "Path": "a path",
    "int": "an integer",
    "float": "a number",
    "bool": "True or False",
    "str": "text",
    "datetime": "a datetime",
    "TaskRef": "a task id",
    "Task": "a task",
    "dict": "a dict",
    **dict.fromkeys(_SEQUENCES, "a list"),
    **dict.fromkeys(("Status", "Action", "Role", "Decision", "Provenance"), "text"),
}
