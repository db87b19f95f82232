"""Workspace-wide settings: defaults every part of the workspace starts from, kept in the
database, changed by admins only, each change in the audit log.

Example::

    ws.settings.values()                          # every setting, defaults filled in
    ws.settings.change("export_format", "lerobot")
    ws.settings.change("review_policy", {"percent": 20})
    ws.settings.reset("export_format")            # back to its default

Where they apply: ``export_format`` is the format the Export page starts on;
``export_rate_hz`` the frame rate of exports whose writer takes one (``rate_hz``) when the export
does not say (None: each format's own default); ``review_policy`` is the sampling policy of
projects that set none (:func:`annotation_kit.work.reviews.review_policy`); ``job_retention_hours``
is how old finished jobs are when ``ws.queue.clean()`` is not told; ``upload_formats`` the source
formats an import accepts (a file of another format is refused, named in the import report).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import events
from ..access.workflow import Role, require_role
from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.models import Setting, User, utcnow

__all__ = ["change", "get", "reset", "values"]


def _export_format(value: Any) -> str:
    from ..exports import exporters

    if value not in exporters():
        raise ValidationError(f"export_format must be one of {', '.join(exporters())}")
    return str(value)


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"job_retention_hours must be a number of hours, not {value!r}")
    if not 0 < value <= 24 * 365:
        raise ValidationError("job_retention_hours must be above 0 and at most a year (8,760)")
    return float(value)


def _policy(value: Any) -> dict[str, Any]:
    from ..work.review_sampling import policy_of

    if not isinstance(value, dict):
        raise ValidationError('review_policy must be an object like {"percent": 20}')
    return policy_of(value)


def _rate(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError(
            f"export_rate_hz must be a whole number of frames per second from 1 to 1000, "
            f"or null for each format's own; not {value!r}"
        )
    return value


def _formats(value: Any) -> list[str] | None:
    from ..formats import readers

    if value is None:
        return None
    known = sorted(readers())
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"upload_formats must be a list of formats from {', '.join(known)}")
    if unknown := sorted(set(value) - set(known)):
        raise ValidationError(
            f"upload_formats: {', '.join(unknown)} unknown; formats: {', '.join(known)}"
        )
    return sorted(set(value))


@dataclass(frozen=True)
class Definition:
    """One setting: its default, what it is for, and the check of a new value."""

    default: Any
    doc: str
    check: Callable[[Any], Any]


DEFINITIONS = {
    "export_format": Definition("json", "the format the Export page starts on", _export_format),
    "review_policy": Definition(
        {}, "the review sampling policy of projects that set none (empty: full)", _policy
    ),
    "job_retention_hours": Definition(
        24.0, "how old finished jobs are when the queue's clean-up is not told", _hours
    ),
    "export_rate_hz": Definition(
        None, "the frame rate of exports that do not give one (null: each format's own)", _rate
    ),
    "upload_formats": Definition(
        None, "the source formats imports accept (null: every installed reader)", _formats
    ),
}


def _definition(key: str) -> Definition:
    found = DEFINITIONS.get(key)
    if found is None:
        raise NotFound(f"no setting {key!r}; settings: {', '.join(DEFINITIONS)}")
    return found


@readonly
def get(session: Session, key: str) -> Any:
    """One setting's value (its default unless an admin changed it)."""
    definition = _definition(key)
    row = session.get(Setting, key)
    return definition.default if row is None else row.value


@readonly
def values(session: Session) -> dict[str, Any]:
    """Every setting with its value, defaults filled in."""
    changed = {row.key: row.value for row in session.scalars(select(Setting))}
    return {key: changed.get(key, d.default) for key, d in DEFINITIONS.items()}


def change(session: Session, key: str, value: Any, *, by: User) -> Any:
    """Set one setting (admins): checked first, then kept and recorded; returns the value."""
    require_role(by, {Role.ADMIN}, "change workspace settings")
    checked = _definition(key).check(value)
    row = session.get(Setting, key, with_for_update=True)
    before = _definition(key).default if row is None else row.value
    if row is None:
        row = Setting(key=key, value=checked, updated_by=by.id)
        session.add(row)
    else:
        row.value, row.updated_at, row.updated_by = checked, utcnow(), by.id
    events.record(
        session,
        by=by,
        object_type="setting",
        object_id=0,
        action="change",
        note=key,
        from_state=str(before)[:64],
        to_state=str(checked)[:64],
    )
    session.flush()
    return checked


def reset(session: Session, key: str, *, by: User) -> Any:
    """Put one setting back to its default (admins); returns the default."""
    require_role(by, {Role.ADMIN}, "change workspace settings")
    definition = _definition(key)
    row = session.get(Setting, key, with_for_update=True)
    if row is not None:
        events.record(
            session,
            by=by,
            object_type="setting",
            object_id=0,
            action="reset",
            note=key,
            from_state=str(row.value)[:64],
            to_state=str(definition.default)[:64],
        )
        session.delete(row)
        session.flush()
    return definition.default
