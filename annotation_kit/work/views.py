"""What pages show, read in one place: the rows a widget's refresh sends to the browser, built
from the services so that a notebook and every host read the same (``when`` formats a moment
as the pages show it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..access import events, logins, projects, users
from ..access.workflow import Role, is_supervisor
from ..library import dictionaries, guidelines, settings, skills
from ..store.models import Annotation, Task, User
from . import feedback, reviews

TABS = ("projects", "skills", "dictionaries", "guidelines", "settings", "users")
"""The Setup page's tabs, in order."""
HISTORY = 15
"""How many of a task's latest events its details list."""


def when(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment as pages show it (``2026-12-07 14:05``; ``seconds``: with seconds), or ``""``."""
    if not moment:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def seconds(ns: int | None) -> float | None:
    """A time on an episode's clock in seconds, as pages show it (to the millisecond)."""
    return None if ns is None else round(ns / 1e9, 3)


def segment_json(a: Annotation, skill_names: dict[int, str]) -> dict[str, Any]:
    """A segment as the browser gets it (text shown as text)."""
    return {
        "id": a.id,
        "version": a.version,
        "kind": str(a.kind),
        "start_ns": a.start_ns,
        "end_ns": a.end_ns,
        "skill": skill_names.get(a.skill_id, "") if a.skill_id else "",
        "labels": list(a.labels or []),
        "description": a.description or "",
        "valid": a.valid,
        "reason": a.invalid_reason or "",
        "provenance": str(a.provenance),
        "template": a.attributes.get("template", 0) if a.attributes else 0,
    }


def annotation_json(a: Annotation, names: dict[str, dict[int, str]]) -> dict[str, Any]:
    """An annotation as the task details list it (names resolved, seconds)."""
    return {
        "id": a.id,
        "version": a.version,
        "dataset": a.dataset_id,
        "dataset_name": names["datasets"].get(a.dataset_id, f"#{a.dataset_id}"),
        "kind": str(a.kind),
        "start_s": seconds(a.start_ns),
        "end_s": seconds(a.end_ns),
        "skill": names["skills"].get(a.skill_id, "") if a.skill_id else "",
        "labels": list(a.labels or []),
        "description": a.description or "",
        "provenance": str(a.provenance),
        "valid": a.valid,
        "reason": a.invalid_reason or "",
        "author": names["users"].get(a.author_id, ""),
    }


def task_parts(session: Session, task: Task, names: dict[int, str]) -> dict[str, Any]:
    """What a task's details show beside its progress: the task itself (``info``), its
    ``people``, open and resolved ``issues`` with replies, review ``comments`` and its latest
    ``history``; ``names`` are its datasets' names by id."""
    return {
        "info": {
            "id": task.id,
            "name": task.name,
            "description": task.description,
            "status": task.status.value,
            "status_label": task.status.label,
            "project": task.project.name if task.project else "",
            "creator": task.creator.name,
            "deadline": task.deadline.date().isoformat() if task.deadline else "",
            "created": when(task.created_at),
            "round": task.review_round,
            "version": task.version,
        },
        "people": {
            "annotators": [u.name for u in task.annotators],
            "reviewers": [u.name for u in task.reviewers],
        },
        "issues": [
            {
                "id": i.id,
                "kind": i.kind,
                "text": i.text,
                "author": i.author,
                "when": when(i.created_at),
                "dataset": names.get(i.dataset_id, "") if i.dataset_id else "",
                "start_s": seconds(i.start_ns),
                "end_s": seconds(i.end_ns),
                "open": i.open,
                "resolved_by": i.resolved_by or "",
                "replies": [{"who": w, "when": when(t), "text": x} for w, t, x in i.replies],
            }
            for i in feedback.list_issues(session, task.id)
        ],
        "comments": [
            {
                "round": r.round,
                "decision": str(r.decision),
                "comment": r.comment,
                "dataset": names.get(r.dataset_id, "") if r.dataset_id else "",
                "start_s": seconds(r.range_start_ns),
                "end_s": seconds(r.range_end_ns),
                "when": when(r.created_at),
            }
            for r in reviews.task_reviews(session, task.id)
        ],
        "history": [
            {
                "when": when(e.at),
                "who": e.actor.name if e.actor else "",
                "action": e.action,
                "change": f"{e.from_state or ''} → {e.to_state}" if e.to_state else "",
                "note": e.note,
            }
            for e in events.history(session, "task", task.id, limit=HISTORY)
        ],
    }


def setup_page(session: Session, me: User) -> dict[str, Any]:
    """What the Setup page shows ``me``: the tabs they may open, what they may change per part
    (``can``) and each tab's rows as far as they may see them (settings and users: admins)."""
    supervisor = is_supervisor(me)
    admin = me.role == Role.ADMIN and me.active
    can = {
        "projects": supervisor,
        "library": supervisor,
        "guidelines": me.active and me.role in guidelines.WRITERS,
        "settings": admin,
        "users": admin,
    }
    names = skills.names(session)
    member_of = projects.memberships(session)
    return {
        "tabs": [t for t in TABS if t not in ("settings", "users") or can[t]],
        "can": can,
        "projects": _project_rows(session, me, names, member_of),
        "skills": _skill_rows(session, names),
        "dictionaries": _dictionary_rows(session),
        "settings": _setting_rows(session) if admin else [],
        "users": _user_rows(session, member_of) if admin else [],
    }


def _project_rows(
    session: Session, me: User, names: dict[int, str], member_of: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The projects this person sees, with members and the skills and dictionaries they use."""
    dictionary_names = {d.id: d.name for d in dictionaries.list_dictionaries(session)}
    rows = []
    for p in projects.list_projects(session, by=me):
        library = {}
        for kind, known in (("skill", names), ("dictionary", dictionary_names)):
            ids = projects.library_ids(session, p.id, kind) or set()
            library[kind] = sorted(known[i] for i in ids if i in known)
        rows.append(
            {
                "name": p.name,
                "description": p.description,
                "visibility": p.visibility,
                "archived": when(p.archived_at),
                "members": sorted(n for n, ps in member_of.items() if p.name in ps),
                "skills": library["skill"],
                "dictionaries": library["dictionary"],
            }
        )
    return rows


def _skill_rows(session: Session, names: dict[int, str]) -> list[dict[str, Any]]:
    """The skill library with usage, order and requirements."""
    by_name = {s.name: s for s in skills.list_skills(session)}
    return [
        {
            "name": u.name,
            "category": u.category,
            "version": u.version,
            "annotations": u.annotations,
            "episodes": u.episodes,
            "annotators": u.annotators,
            "last_used": when(u.last_used),
            "deprecated": u.deprecated,
            "position": by_name[u.name].position or 0,
            "requires": [names[r] for r in by_name[u.name].requires if r in names],
            "description": by_name[u.name].description,
        }
        for u in skills.usage(session)
    ]


def _dictionary_rows(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "name": d.name,
            "kind": d.kind,
            "version": d.version,
            "entries": list(d.labels),
            "annotations": d.annotations,
            "labels": d.labels,
            "projects": d.projects,
            "last_used": when(d.last_used),
        }
        for d in dictionaries.usage(session)
    ]


def _setting_rows(session: Session) -> list[dict[str, Any]]:
    return [
        {"key": key, "value": json.dumps(value), "doc": settings.DEFINITIONS[key].doc}
        for key, value in settings.values(session).items()
    ]


def _user_rows(session: Session, member_of: dict[str, list[str]]) -> list[dict[str, Any]]:
    with_password = logins.password_users(session)
    return [
        {
            "name": u.name,
            "role": u.role.value,
            "status": u.status.value,
            "email": u.email or "",
            "projects": member_of.get(u.name, []),
            "password": u.name in with_password,
        }
        for u in users.list_users(session)
    ]
