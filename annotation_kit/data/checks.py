"""Data checks (QC): rules per project, evaluated on each dataset's index, results stored on it.

A rule is a small dict::

    {"kind": "min_rate", "streams": "/camera/*", "hz": 10, "severity": "error"}
    {"kind": "required", "streams": ["/robot/joint_states"]}
    {"kind": "forbidden", "streams": ["/debug/*"], "severity": "warning"}
    {"kind": "duration", "min_s": 2, "max_s": 600}

Stream names match as shell patterns. A dataset's ``qc_status`` is ``error`` when an
error-severity rule fails, ``warning`` when only warnings fail, else ``pass``; a manager may
override a failure with a reason (``overridden``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _text, events, projects
from ..access.rulebook import NAMES, NUMBER, Broken, Kind, Rulebook
from ..access.workflow import require_supervisor
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import Dataset, Project, QcStatus, User, utcnow
from . import datasets

__all__ = [
    "evaluate",
    "on_import",
    "override",
    "run",
    "set_rules",
    "status_of",
    "validate",
    "with_status",
]

STATUSES = tuple(QcStatus)
STREAMS = (str, NAMES)
"""Which streams (and cameras) a rule looks at: a pattern (``*`` any, ``?`` one character) or a
list of them; every stream when not given."""


def _patterns(rule: dict[str, Any]) -> list[str]:
    streams = rule.get("streams", "*")
    return [streams] if isinstance(streams, str) else list(streams)


def _streams_ok(settings: dict[str, Any]) -> str | None:
    patterns = _patterns(settings)
    if not patterns or not all(
        isinstance(p, str) and p.strip() and len(p) <= 500 and "\x00" not in p for p in patterns
    ):
        return "streams must be a stream pattern or a non-empty list of them"
    return None


def _rate_ok(settings: dict[str, Any]) -> str | None:
    return _streams_ok(settings) or (
        None if settings["hz"] > 0 else "min_rate needs a number 'hz' above 0"
    )


def _bounds_ok(settings: dict[str, Any]) -> str | None:
    if "min_s" not in settings and "max_s" not in settings:
        return "duration needs 'min_s' and/or 'max_s'"
    if settings.get("min_s", 0) > settings.get("max_s", math.inf):
        return "min_s is above max_s"
    return _streams_ok(settings)


@dataclass(frozen=True)
class _Seen:
    """What the checks look at: an episode's streams and cameras by name, its length."""

    streams: dict[str, dict[str, Any]]
    seconds: float

    def matching(self, rule: dict[str, Any]) -> list[str]:
        patterns = _patterns(rule)
        return [n for n in self.streams if any(fnmatchcase(n, p) for p in patterns)]


def _missing(rule: dict[str, Any], seen: _Seen) -> Iterable[Broken]:
    gone = [p for p in _patterns(rule) if not any(fnmatchcase(n, p) for n in seen.streams)]
    gone += [n for n in seen.matching(rule) if seen.streams[n].get("missing")]
    return [Broken(f"missing: {', '.join(gone)}")] if gone else []


def _present(rule: dict[str, Any], seen: _Seen) -> Iterable[Broken]:
    found = seen.matching(rule)
    return [Broken(f"present: {', '.join(found)}")] if found else []


def _slow(rule: dict[str, Any], seen: _Seen) -> Iterable[Broken]:
    rates = {n: seen.streams[n].get("rate_hz") or 0 for n in seen.matching(rule)}
    slow = [f"{n} {hz:g} Hz" for n, hz in rates.items() if hz < rule["hz"]]
    return [Broken(f"below {rule['hz']:g} Hz: {', '.join(slow)}")] if slow else []


def _length(rule: dict[str, Any], seen: _Seen) -> Iterable[Broken]:
    low, high = rule.get("min_s", 0), rule.get("max_s", float("inf"))
    if low <= seen.seconds <= high:
        return []
    return [Broken(f"{seen.seconds:.2f} s is outside [{low}, {high}] s")]


RULEBOOK = Rulebook(
    "kind",
    {
        "min_rate": Kind(
            {"streams": STREAMS, "hz": NUMBER}, needs=("hz",), check=_rate_ok, evaluate=_slow
        ),
        "required": Kind({"streams": STREAMS}, check=_streams_ok, evaluate=_missing),
        "forbidden": Kind({"streams": STREAMS}, check=_streams_ok, evaluate=_present),
        "duration": Kind(
            {"streams": STREAMS, "min_s": NUMBER, "max_s": NUMBER},
            check=_bounds_ok,
            evaluate=_length,
        ),
    },
)
"""The data-check kinds: streams present (``required``) or absent (``forbidden``), a minimum
rate (``min_rate``, Hz) and the episode's length (``duration``, seconds)."""
KINDS = set(RULEBOOK.kinds)


def validate(rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check rule dicts (the rulebook's one validation), filling in the default severity
    ``error`` and streams ``*``; raise naming the bad one. Every field is checked on the way
    in: a rule stored wrong would fail every later import into the project."""
    return [{"streams": "*", **rule} for rule in RULEBOOK.validate(rules)]


def evaluate(rules: Sequence[dict[str, Any]], dataset: Dataset) -> list[dict[str, Any]]:
    """One result per rule: ``{"rule", "severity", "passed", "message"}`` (no data is read)."""
    streams = {s["name"]: s for s in [*dataset.streams, *dataset.cameras]}
    seen = _Seen(streams, dataset.duration_ns / 1e9)
    return [
        {
            "rule": rule,
            "severity": rule["severity"],
            "passed": not broken,
            "message": "; ".join(b.message for b in broken) or "ok",
        }
        for rule, broken in RULEBOOK.evaluate(rules, seen)
    ]


def status_of(results: Sequence[dict[str, Any]]) -> str:
    """A dataset's check status from its check results: error, warning or pass."""
    failed = {r["severity"] for r in results if not r["passed"]}
    return "error" if "error" in failed else "warning" if failed else "pass"


def set_rules(
    session: Session, project: str | int, rules: Iterable[dict[str, Any]], *, by: User
) -> Project:
    """Replace a project's data-check rules (managers and admins)."""
    require_supervisor(by, "change data-check rules")
    found = projects.get(session, project)
    found.qc_rules = validate(rules)
    events.record(
        session,
        by=by,
        object_type="project",
        object_id=found.id,
        action="set_qc_rules",
        rules=len(found.qc_rules),
    )
    return found


def run(
    session: Session,
    dataset_ids: Iterable[int] | None = None,
    *,
    project: str | int | None = None,
    by: User,
) -> dict[int, str]:
    """Evaluate the rules of each dataset's project; returns ``{dataset id: qc_status}``.

    Datasets with no project or whose project has no rules stay ``unchecked``; an override
    stays in force. It writes results: managers and admins only (imports run it for whoever
    imports, through :func:`on_import`).
    """
    require_supervisor(by, "run data checks")
    return on_import(session, dataset_ids, project=project, by=by)


def on_import(
    session: Session,
    dataset_ids: Iterable[int] | None = None,
    *,
    project: str | int | None = None,
    by: User,
) -> dict[int, str]:
    """:func:`run` for datasets just imported, as the user who imported them (anyone who may
    import: the same rules, evaluated the same way)."""
    datasets.require_registrar(by)
    query = select(Dataset, Project.qc_rules).join(Project, Project.id == Dataset.project_id)
    if dataset_ids is not None:
        query = query.where(Dataset.id.in_(list(dataset_ids)))
    if project is not None:
        query = query.where(Dataset.project_id == projects.get(session, project).id)
    outcome = {}
    for dataset, rules in session.execute(query):
        if not rules:
            continue
        dataset.qc_results = evaluate(rules, dataset)
        if dataset.qc_override is None:
            dataset.qc_status = status_of(dataset.qc_results)
        outcome[dataset.id] = dataset.qc_status
    if outcome:
        failed = sorted(i for i, status in outcome.items() if status in ("error", "warning"))
        events.record(
            session,
            by=by,
            object_type="qc",
            object_id=0,
            action="run",
            datasets=len(outcome),
            failed=failed[:1000],  # whose uploaders are told (notifications)
        )
    return outcome


def override(session: Session, dataset: int, reason: str, *, by: User) -> Dataset:
    """Accept a dataset despite failed checks, with a reason (managers and admins)."""
    require_supervisor(by, "override data checks")
    _text.text(reason, "override reason", required=True)
    found = session.get(Dataset, dataset)
    if found is None:
        raise ValidationError(f"no dataset with id {dataset}")
    events.record(
        session,
        by=by,
        object_type="dataset",
        object_id=found.id,
        action="qc_override",
        from_state=found.qc_status,
        to_state="overridden",
        note=reason,
    )
    found.qc_override = {"reason": reason, "by": by.name, "at": utcnow().isoformat()}
    found.qc_status = "overridden"
    return found


@readonly
def with_status(session: Session, status: str, *, project: str | int | None = None) -> list[int]:
    """Ids of datasets whose ``qc_status`` is ``status``."""
    if status not in STATUSES:
        raise ValidationError(f"qc status must be one of {', '.join(STATUSES)}")
    query = select(Dataset.id).where(Dataset.qc_status == status).order_by(Dataset.id)
    if project is not None:
        query = query.where(Dataset.project_id == projects.get(session, project).id)
    return list(session.scalars(query))
