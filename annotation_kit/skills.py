"""The skill library (versioned) and dictionaries of labels, objects and targets.

The library travels as CSV (``name,category,description,tags``, tags separated by ``;``):
``ws.skills.export_csv()`` and ``ws.skills.import_csv(path_or_text)`` (all or nothing).
``ws.skills.usage()`` says how much each skill is used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import _csv, _text, events
from .database import readonly
from .errors import NotFound, ValidationError
from .models import Annotation, Dictionary, Skill, SkillVersion, User
from .workflow import require_supervisor

__all__ = [
    "SkillImport",
    "Usage",
    "check_labels",
    "create",
    "create_dictionary",
    "edit",
    "export_csv",
    "get",
    "import_csv",
    "list_dictionaries",
    "list_skills",
    "names",
    "usage",
]

CSV_COLUMNS = ("name", "category", "description", "tags")


def get(session: Session, skill: str | int) -> Skill:
    """The skill with this name or id; :class:`NotFound` names some known ones."""
    column = Skill.id if isinstance(skill, int) else Skill.name
    found = session.scalar(select(Skill).where(column == skill))
    if found is None:
        known = session.scalars(select(Skill.name).order_by(Skill.name).limit(30)).all()
        raise NotFound(f"no skill {skill!r} in the skill library; known: {', '.join(known)}")
    return found


def create(
    session: Session,
    name: str,
    *,
    category: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    by: User,
) -> Skill:
    """Add a skill to the library (managers and admins); it starts at version 1."""
    require_supervisor(by, "edit the skill library")
    _text.name(name, "skill name")
    _text.text(description, "skill description")
    _text.optional_name(category, "skill category")
    tags = [_text.name(t, "skill tag") for t in tags]
    if session.scalar(select(Skill.id).where(Skill.name == name)) is not None:
        raise ValidationError(f"a skill named {name!r} already exists")
    skill = Skill(name=name, category=category, description=description, tags=list(tags))
    session.add(skill)
    session.flush()
    _snapshot(session, skill)
    events.record(session, by=by, object_type="skill", object_id=skill.id, action="create")
    return skill


def edit(
    session: Session,
    skill: str | int,
    *,
    name: str | None = None,
    category: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    by: User,
) -> Skill:
    """Change a skill; its version goes up and annotations keep pointing at the old version."""
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if name is not None:
        found.name = _text.name(name, "skill name")
    if category is not None:
        found.category = _text.optional_name(category, "skill category")
    if description is not None:
        found.description = _text.text(description, "skill description")
    if tags is not None:
        found.tags = [_text.name(t, "skill tag") for t in tags]
    found.version += 1
    session.flush()
    _snapshot(session, found)
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found.id,
        action="edit",
        to_state=f"v{found.version}",
    )
    return found


def _snapshot(session: Session, skill: Skill) -> None:
    session.add(
        SkillVersion(
            skill_id=skill.id,
            version=skill.version,
            name=skill.name,
            category=skill.category,
            description=skill.description,
            tags=list(skill.tags),
        )
    )


@readonly
def list_skills(session: Session) -> Sequence[Skill]:
    """The skill library, by category then name."""
    return session.scalars(select(Skill).order_by(Skill.category, Skill.name)).all()


@readonly
def names(session: Session) -> dict[int, str]:
    """Every skill's name by id (what a view needs to show annotations' skills)."""
    return dict(session.execute(select(Skill.id, Skill.name)).all())  # type: ignore[arg-type]


def create_dictionary(
    session: Session, name: str, entries: Iterable[str], *, kind: str = "labels", by: User
) -> Dictionary:
    """A named list of allowed labels (or objects, targets...). Managers and admins."""
    require_supervisor(by, "edit dictionaries")
    _text.name(name, "dictionary name")
    _text.name(kind, "dictionary kind")
    if len(kind) > 64:
        raise ValidationError(f"dictionary kind is {len(kind)} characters long; the limit is 64")
    entries = [_text.name(e, f"entry of dictionary {name!r}") for e in entries]
    if session.scalar(select(Dictionary.id).where(Dictionary.name == name)) is not None:
        raise ValidationError(f"a dictionary named {name!r} already exists")
    found = Dictionary(name=name, kind=kind, entries=list(dict.fromkeys(entries)))
    session.add(found)
    session.flush()
    events.record(session, by=by, object_type="dictionary", object_id=found.id, action="create")
    return found


@readonly
def list_dictionaries(session: Session) -> Sequence[Dictionary]:
    """Every label dictionary, by name."""
    return session.scalars(select(Dictionary).order_by(Dictionary.name)).all()


def check_labels(session: Session, labels: Iterable[str]) -> list[str]:
    """Return ``labels`` if every one is an entry of some dictionary, else raise naming the rest."""
    labels = list(labels)
    if not labels:
        return labels
    known: set[str] = set()
    for entries in session.scalars(select(Dictionary.entries)):
        known.update(entries)
    if unknown := [label for label in labels if label not in known]:
        raise ValidationError(
            f"label(s) {', '.join(map(repr, unknown))} are in no dictionary; add them to a "
            f"dictionary first"
        )
    return labels


@dataclass(frozen=True)
class Usage:
    """How much one skill is used, across every task."""

    name: str
    category: str
    version: int
    annotations: int
    episodes: int
    annotators: int
    last_used: datetime | None
    """When an annotation with this skill was last made or changed."""


@readonly
def usage(session: Session) -> list[Usage]:
    """Each skill of the library with its annotations, episodes and annotators, and when it was
    last used (unused skills too, with zeros), by category then name."""
    counts = {
        skill_id: (int(n), int(episodes), int(people), last)
        for skill_id, n, episodes, people, last in session.execute(
            select(
                Annotation.skill_id,
                func.count(),
                func.count(func.distinct(Annotation.dataset_id)),
                func.count(func.distinct(Annotation.author_id)),
                func.max(Annotation.updated_at),
            )
            .where(Annotation.skill_id.is_not(None))
            .group_by(Annotation.skill_id)
        )
    }
    return [
        Usage(s.name, s.category, s.version, *counts.get(s.id, (0, 0, 0, None)))
        for s in list_skills(session)
    ]


@readonly
def export_csv(session: Session) -> str:
    """The skill library as CSV text (``name,category,description,tags``; tags joined by
    ``;``), what :func:`import_csv` reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for skill in list_skills(session):
        writer.writerow([skill.name, skill.category, skill.description, ";".join(skill.tags)])
    return out.getvalue()


@dataclass
class SkillImport:
    """What :func:`import_csv` did."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Skills whose category, description or tags the file changed (each a new version)."""
    unchanged: list[str] = field(default_factory=list)


def import_csv(session: Session, source: str | Path | io.TextIOBase, *, by: User) -> SkillImport:
    """Create or update skills from CSV rows ``name,category,description,tags`` (managers and
    admins; tags joined by ``;``).

    All or nothing: every row is checked first, and the bad ones (an empty or too long name, a
    name twice in the file, a bad category or tag) are refused together, each with its line,
    with nothing written. A skill already in the library gets a new version only if the row
    changes it."""
    require_supervisor(by, "edit the skill library")
    rows = _csv.rows(source, {"name"}, "skill", ",".join(CSV_COLUMNS))
    problems: list[str] = []
    parsed: list[tuple[str, str, str, list[str]]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            name = _text.name((row.get("name") or "").strip(), "skill name")
            category = _text.optional_name((row.get("category") or "").strip(), "skill category")
            description = _text.text(row.get("description") or "", "skill description")
            tags = [
                _text.name(t.strip(), "skill tag")
                for t in (row.get("tags") or "").split(";")
                if t.strip()
            ]
        except ValidationError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if name in seen:
            problems.append(f"line {line}: skill {name!r} is already on line {seen[name]}")
            continue
        seen[name] = line
        parsed.append((name, category, description, tags))
    if problems:
        raise ValidationError("skill import refused, nothing was written:\n" + "\n".join(problems))
    report = SkillImport()
    existing = {s.name: s for s in session.scalars(select(Skill))}
    for name, category, description, tags in parsed:
        found = existing.get(name)
        if found is None:
            create(session, name, category=category, description=description, tags=tags, by=by)
            report.created.append(name)
        elif (found.category, found.description, list(found.tags)) != (category, description, tags):
            edit(session, found.id, category=category, description=description, tags=tags, by=by)
            report.changed.append(name)
        else:
            report.unchanged.append(name)
    return report
