"""The skill library: versioned skills (every edit a new version; annotations keep the one
they used), with categories, dependencies (``requires``: skills that must come before in an
episode, checked with the project's rules), hot-key order, deprecation and merges.

The library travels as CSV (``name,category,description,tags,requires,deprecated``; lists
separated by ``;``): ``ws.skills.export_csv()`` and ``ws.skills.import_csv(path_or_text)`` (all
or nothing). ``ws.skills.usage()`` says how much each skill is used; ``ws.skills.offered(task)``
what an annotator of that task is offered (the project's skills, none deprecated).
Label dictionaries are :mod:`annotation_kit.library.dictionaries`.
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

from ..access import _csv, _text, events, projects
from ..access.workflow import require_supervisor
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import Annotation, Skill, SkillVersion, Task, User
from ._versioned import Versioned

__all__ = [
    "SkillImport",
    "Usage",
    "create",
    "deprecate",
    "edit",
    "export_csv",
    "get",
    "import_csv",
    "list_skills",
    "merge",
    "names",
    "offered",
    "reorder",
    "requirements",
    "restore",
    "usage",
    "use_in_project",
    "version",
]

CSV_COLUMNS = ("name", "category", "description", "tags", "requires", "deprecated")


SKILLS = Versioned(
    "skill",
    Skill,
    SkillVersion,
    ("name", "category", "description", "tags"),
    " in the skill library",
)


def get(session: Session, skill: str | int) -> Skill:
    """The skill with this name or id; :class:`NotFound` names some known ones."""
    return SKILLS.get(session, skill)


def create(
    session: Session,
    name: str,
    *,
    category: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    requires: Iterable[str] = (),
    by: User,
) -> Skill:
    """Add a skill to the library (managers and admins); it starts at version 1. ``requires``
    names skills that must come before it in an episode."""
    require_supervisor(by, "edit the skill library")
    SKILLS.free_name(session, name)
    _text.text(description, "skill description")
    _text.optional_name(category, "skill category")
    tags = [_text.name(t, "skill tag") for t in tags]
    skill = Skill(name=name, category=category, description=description, tags=list(tags))
    session.add(skill)
    session.flush()  # its id, for what it requires
    skill.requires = _requirements(session, skill, requires)
    return SKILLS.created(session, skill, by=by)


def edit(
    session: Session,
    skill: str | int,
    *,
    name: str | None = None,
    category: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    requires: Iterable[str] | None = None,
    by: User,
) -> Skill:
    """Change a skill; its version goes up and annotations keep pointing at the old version."""
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if requires is not None:
        found.requires = _requirements(session, found, requires)
    if name is not None and name != found.name:
        found.name = SKILLS.free_name(session, name, hint="; merge into it instead")
    if category is not None:
        found.category = _text.optional_name(category, "skill category")
    if description is not None:
        found.description = _text.text(description, "skill description")
    if tags is not None:
        found.tags = [_text.name(t, "skill tag") for t in tags]
    return SKILLS.changed(session, found, by=by)


def _requirements(session: Session, skill: Skill, names: Iterable[str]) -> list[int]:
    """The ids of the skills ``skill`` requires, refused when one is itself or would make a
    cycle (a skill that, through others, requires itself)."""
    ids = [get(session, _text.name(n, "required skill")).id for n in names]
    if skill.id in ids:
        raise ValidationError(f"skill {skill.name!r} cannot require itself")
    graph = {s.id: list(s.requires) for s in session.scalars(select(Skill))} | {skill.id: ids}
    todo, seen = list(ids), set()
    while todo:
        at = todo.pop()
        if at == skill.id:
            raise ValidationError(
                f"skill {skill.name!r} would require itself through "
                f"{', '.join(repr(get(session, i).name) for i in ids)}"
            )
        if at not in seen:
            seen.add(at)
            todo.extend(graph.get(at, []))
    return list(dict.fromkeys(ids))


@readonly
def list_skills(session: Session, *, deprecated: bool = True) -> Sequence[Skill]:
    """The skill library in hot-key order (skills without a place follow, by category then
    name); ``deprecated=False`` leaves out the deprecated ones."""
    query = select(Skill).order_by(
        Skill.position.is_(None), Skill.position, Skill.category, Skill.name
    )
    if not deprecated:
        query = query.where(Skill.deprecated.is_(False))
    return session.scalars(query).all()


@readonly
def names(session: Session) -> dict[int, str]:
    """Every skill's name by id (what a view needs to show annotations' skills)."""
    return dict(session.execute(select(Skill.id, Skill.name)).all())  # type: ignore[arg-type]


@readonly
def version(session: Session, skill: str | int, number: int) -> SkillVersion:
    """A skill as it was at one version (annotations made then point at it)."""
    return SKILLS.version(session, skill, number)


@readonly
def requirements(session: Session) -> dict[str, list[str]]:
    """Each skill that requires others, by name: the names of those it requires."""
    by_id = names(session)
    return {
        by_id[s.id]: [by_id[r] for r in s.requires if r in by_id]
        for s in session.scalars(select(Skill).where(Skill.deprecated.is_(False)))
        if s.requires
    }


def reorder(session: Session, order: Sequence[str], *, by: User) -> list[str]:
    """Set the hot-key order: ``order`` names the skills that get keys 1, 2...; the rest follow
    by category and name. Returns the library's names in the new order."""
    require_supervisor(by, "edit the skill library")
    found = [get(session, _text.name(n, "skill name")) for n in order]
    if len({s.id for s in found}) != len(found):
        raise ValidationError("a skill is named twice in the hot-key order")
    for skill in session.scalars(select(Skill).where(Skill.position.is_not(None))):
        skill.position = None
    for place, skill in enumerate(found, 1):
        skill.position = place
    session.flush()
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found[0].id if found else 0,
        action="reorder",
        note=", ".join(s.name for s in found)[:500],
    )
    return [s.name for s in list_skills(session)]


def deprecate(session: Session, skill: str | int, *, by: User, note: str = "") -> Skill:
    """Stop offering a skill: the annotations that use it keep it, no new one may."""
    return _deprecated(session, skill, True, by, note)


def restore(session: Session, skill: str | int, *, by: User) -> Skill:
    """Offer a deprecated skill again."""
    return _deprecated(session, skill, False, by, "")


def _deprecated(session: Session, skill: str | int, value: bool, by: User, note: str) -> Skill:
    require_supervisor(by, "edit the skill library")
    found = get(session, skill)
    if found.merged_into is not None and not value:
        raise ValidationError(f"skill {found.name!r} was merged into another; it stays retired")
    found.deprecated = value
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=found.id,
        action="deprecate" if value else "restore",
        note=_text.text(note, "note"),
    )
    return found


def merge(session: Session, skill: str | int, into: str | int, *, by: User) -> int:
    """Merge ``skill`` into ``into``: its annotations point at ``into`` (its current version;
    each annotation's change is recorded), and ``skill`` is deprecated for good. Returns the
    number of annotations re-pointed."""
    require_supervisor(by, "edit the skill library")
    source, target = get(session, skill), get(session, into)
    if source.id == target.id:
        raise ValidationError(f"skill {source.name!r} cannot be merged into itself")
    if target.deprecated:
        raise ValidationError(f"skill {target.name!r} is deprecated; merge into a skill in use")
    moved = session.scalars(
        select(Annotation).where(Annotation.skill_id == source.id).with_for_update()
    ).all()
    for annotation in moved:
        was = annotation.skill_version
        annotation.skill_id, annotation.skill_version = target.id, target.version
        events.record(
            session,
            by=by,
            object_type="annotation",
            object_id=annotation.id,
            action="update",
            note=f"skill {source.name!r} v{was} merged into {target.name!r} v{target.version}",
        )
    for other in session.scalars(select(Skill)):  # what required the source requires the target
        if source.id in other.requires:
            kept = [target.id if r == source.id else r for r in other.requires]
            other.requires = [r for r in dict.fromkeys(kept) if r != other.id]
    source.deprecated, source.merged_into = True, target.id
    session.flush()
    events.record(
        session,
        by=by,
        object_type="skill",
        object_id=source.id,
        action="merge",
        to_state=target.name,
        note=f"{len(moved)} annotation(s) re-pointed",
    )
    return len(moved)


def use_in_project(
    session: Session, project: str | int, skills: Iterable[str], *, by: User
) -> list[str]:
    """The skills the project's annotators are offered (none named: the whole library)."""
    return SKILLS.use_in_project(session, project, skills, by=by)


@readonly
def offered(session: Session, task: int) -> list[Skill]:
    """The skills an annotator of ``task`` is offered, in hot-key order: its project's (the
    whole library when the project names none), none deprecated."""
    project_id = session.scalar(select(Task.project_id).where(Task.id == task))
    chosen = projects.library_ids(session, project_id, "skill")
    return [s for s in list_skills(session, deprecated=False) if chosen is None or s.id in chosen]


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
    deprecated: bool = False


@readonly
def usage(session: Session) -> list[Usage]:
    """Each skill of the library with its annotations, episodes and annotators, and when it was
    last used (unused skills too, with zeros), in the library's order."""
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
        Usage(s.name, s.category, s.version, *counts.get(s.id, (0, 0, 0, None)), s.deprecated)
        for s in list_skills(session)
    ]


@readonly
def export_csv(session: Session) -> str:
    """The skill library as CSV text (``name,category,description,tags,requires,deprecated``;
    lists joined by ``;``), in hot-key order: what :func:`import_csv` reads back."""
    by_id = names(session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for skill in list_skills(session):
        writer.writerow(
            [
                skill.name,
                skill.category,
                skill.description,
                ";".join(skill.tags),
                ";".join(by_id[r] for r in skill.requires if r in by_id),
                "yes" if skill.deprecated else "",
            ]
        )
    return out.getvalue()


@dataclass
class SkillImport:
    """What :func:`import_csv` did."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Skills whose category, description, tags or requirements the file changed (each a new
    version), or that it deprecated or restored."""
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    category: str
    description: str
    tags: list[str]
    requires: list[str] | None
    deprecated: bool | None


def _flag(value: str | None, what: str) -> bool | None:
    text = (value or "").strip().lower()
    if value is None:
        return None
    if text in ("", "no", "false", "0"):
        return False
    if text in ("yes", "true", "1"):
        return True
    raise ValidationError(f"{what} is {value!r}; write yes or no")


def import_csv(session: Session, source: str | Path | io.TextIOBase, *, by: User) -> SkillImport:
    """Create or update skills from CSV rows ``name,category,description,tags,requires,
    deprecated`` (managers and admins; lists joined by ``;``; only ``name`` is required, and a
    column left out changes nothing).

    All or nothing: every row is checked first, and the bad ones (an empty or too long name, a
    name twice in the file, a bad category or tag, a required skill neither in the file nor in
    the library, a requirement cycle) are refused together, each with its line, with nothing
    written. A skill already in the library gets a new version only if the row changes it."""
    require_supervisor(by, "edit the skill library")
    rows = _csv.rows(source, {"name"}, "skill", ",".join(CSV_COLUMNS))
    problems: list[str] = []
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    existing = {s.name: s for s in session.scalars(select(Skill))}
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
            needs = row.get("requires")
            requires = None if needs is None else [n.strip() for n in needs.split(";") if n.strip()]
            deprecated = _flag(row.get("deprecated"), "deprecated")
        except ValidationError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if name in seen:
            problems.append(f"line {line}: skill {name!r} is already on line {seen[name]}")
            continue
        seen[name] = line
        parsed.append(_Row(line, name, category, description, tags, requires, deprecated))
    for row in parsed:
        if unknown := [n for n in row.requires or [] if n not in seen and n not in existing]:
            problems.append(
                f"line {row.line}: requires {', '.join(map(repr, unknown))}, in neither the "
                f"file nor the library"
            )
    if problems:
        raise ValidationError("skill import refused, nothing was written:\n" + "\n".join(problems))
    report = SkillImport()
    for row in parsed:  # first the skills, then what they require (which may come later)
        found = existing.get(row.name)
        if found is None:
            existing[row.name] = create(
                session,
                row.name,
                category=row.category,
                description=row.description,
                tags=row.tags,
                by=by,
            )
            report.created.append(row.name)
        elif (found.category, found.description, list(found.tags)) != (
            row.category,
            row.description,
            row.tags,
        ):
            edit(
                session,
                found.id,
                category=row.category,
                description=row.description,
                tags=row.tags,
                by=by,
            )
            report.changed.append(row.name)
    try:
        for row in parsed:
            skill = existing[row.name]
            wanted = None if row.requires is None else [existing[n].id for n in row.requires]
            if wanted is not None and wanted != list(skill.requires):
                try:
                    edit(session, skill.id, requires=row.requires, by=by)
                except ValidationError as exc:
                    raise ValidationError(f"line {row.line}: {exc}") from None
                if row.name not in report.created + report.changed:
                    report.changed.append(row.name)
            if row.deprecated is not None and row.deprecated != skill.deprecated:
                (deprecate if row.deprecated else restore)(session, skill.id, by=by)
                if row.name not in report.created + report.changed:
                    report.changed.append(row.name)
    except ValidationError as exc:  # the transaction is rolled back: nothing stays written
        raise ValidationError(f"skill import refused, nothing was written:\n{exc}") from None
    report.unchanged = [r.name for r in parsed if r.name not in report.created + report.changed]
    return report
