"""The skill library as CSV: out (``export_csv``) and in (``import_csv``, all or nothing)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...access import _csv, _text
from ...access.workflow import require_supervisor
from ...errors import ValidationError
from ...store.database import readonly
from ...store.models import Skill, User
from .core import create, deprecate, edit, list_skills, names, restore

CSV_COLUMNS = ("name", "category", "description", "tags", "requires", "deprecated")


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
