"""Label dictionaries: named, versioned lists of allowed labels (objects, targets,
attributes...). Every edit is a new version (the old ones stay readable); a project may name the
dictionaries its annotators are offered (``use_in_project``), and a label outside them is
refused on its tasks.

Dictionaries travel as CSV, one row per entry (``dictionary,kind,entry``):
``ws.dictionaries.export_csv()`` and ``ws.dictionaries.import_csv(path_or_text)`` (all or
nothing). ``ws.dictionaries.usage()`` says how much each is used, and by which projects.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import _csv, _text, projects
from ..access.workflow import require_supervisor
from ..errors import ValidationError
from ..store.database import readonly
from ..store.models import (
    Annotation,
    Dictionary,
    DictionaryVersion,
    Project,
    ProjectLibrary,
    Task,
    User,
)
from ._versioned import Versioned

__all__ = [
    "DictionaryImport",
    "DictionaryUsage",
    "check_labels",
    "create",
    "edit",
    "export_csv",
    "get",
    "import_csv",
    "list_dictionaries",
    "offered",
    "usage",
    "use_in_project",
    "version",
]

CSV_COLUMNS = ("dictionary", "kind", "entry")


DICTIONARIES = Versioned(
    "dictionary", Dictionary, DictionaryVersion, ("name", "kind", "entries", "description")
)


def get(session: Session, dictionary: str | int) -> Dictionary:
    """The dictionary with this name or id; :class:`NotFound` names the known ones."""
    return DICTIONARIES.get(session, dictionary)


def _kind(kind: str) -> str:
    _text.name(kind, "dictionary kind")
    if len(kind) > 64:
        raise ValidationError(f"dictionary kind is {len(kind)} characters long; the limit is 64")
    return kind


def _entries(name: str, entries: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(_text.name(e, f"entry of dictionary {name!r}") for e in entries))


def create(
    session: Session,
    name: str,
    entries: Iterable[str],
    *,
    kind: str = "labels",
    description: str = "",
    by: User,
) -> Dictionary:
    """A named list of allowed labels (or objects, targets...), at version 1. Managers and
    admins."""
    require_supervisor(by, "edit dictionaries")
    _text.name(name, "dictionary name")
    item = Dictionary(
        name=name,
        kind=_kind(kind),
        entries=_entries(name, entries),
        description=_text.text(description, "dictionary description"),
        version=1,
    )
    DICTIONARIES.free_name(session, name)
    return DICTIONARIES.created(session, item, by=by)


def edit(
    session: Session,
    dictionary: str | int,
    *,
    entries: Iterable[str] | None = None,
    name: str | None = None,
    kind: str | None = None,
    description: str | None = None,
    by: User,
) -> Dictionary:
    """Change a dictionary: a new version (the old one stays readable with :func:`version`).
    Labels already on annotations are kept even when an entry is taken out."""
    require_supervisor(by, "edit dictionaries")
    found = get(session, dictionary)
    if name is not None and name != found.name:
        found.name = DICTIONARIES.free_name(session, name)
    if kind is not None:
        found.kind = _kind(kind)
    if description is not None:
        found.description = _text.text(description, "dictionary description")
    if entries is not None:
        found.entries = _entries(found.name, entries)
    return DICTIONARIES.changed(session, found, by=by)


@readonly
def version(session: Session, dictionary: str | int, number: int) -> DictionaryVersion:
    """A dictionary as it was at one version."""
    return DICTIONARIES.version(session, dictionary, number)


@readonly
def list_dictionaries(session: Session) -> Sequence[Dictionary]:
    """Every label dictionary, by name."""
    return session.scalars(select(Dictionary).order_by(Dictionary.name)).all()


def use_in_project(
    session: Session, project: str | int, dictionaries: Iterable[str], *, by: User
) -> list[str]:
    """The dictionaries whose labels the project's annotators are offered (none named: all)."""
    return DICTIONARIES.use_in_project(session, project, dictionaries, by=by)


def _known(session: Session, task: int | None) -> tuple[set[str], list[str] | None]:
    """The labels allowed on ``task``, and the names of its project's dictionaries (None
    when the project names none: every dictionary's labels are allowed)."""
    project_id = (
        None if task is None else session.scalar(select(Task.project_id).where(Task.id == task))
    )
    chosen = projects.library_ids(session, project_id, "dictionary")
    query = select(Dictionary.name, Dictionary.entries).order_by(Dictionary.name)
    if chosen is not None:
        query = query.where(Dictionary.id.in_(chosen))
    known: set[str] = set()
    names: list[str] = []
    for name, entries in session.execute(query):
        known.update(entries)
        names.append(name)
    return known, None if chosen is None else names


@readonly
def offered(session: Session, task: int) -> list[str]:
    """The labels an annotator of ``task`` is offered: its project's dictionaries' entries
    (every dictionary's when the project names none), sorted."""
    return sorted(_known(session, task)[0])


def check_labels(session: Session, labels: Iterable[str], *, task: int | None = None) -> list[str]:
    """Return ``labels`` if every one is an entry of a dictionary (of the task's project, when
    it names some), else raise naming the rest."""
    labels = list(labels)
    if not labels:
        return labels
    known, chosen = _known(session, task)
    if unknown := [label for label in labels if label not in known]:
        which = ", ".join(map(repr, unknown))
        if chosen is None:
            raise ValidationError(
                f"label(s) {which} are in no dictionary; add them to a dictionary first"
            )
        raise ValidationError(
            f"label(s) {which} are not in the project's dictionaries ({', '.join(chosen)})"
        )
    return labels


@dataclass(frozen=True)
class DictionaryUsage:
    """How much one dictionary is used."""

    name: str
    kind: str
    version: int
    entries: int
    annotations: int
    """Annotations carrying at least one of its labels."""
    labels: dict[str, int]
    """Each entry's number of annotations (unused entries with 0)."""
    projects: list[str]
    """The projects that name it (a project naming none uses every dictionary)."""
    last_used: datetime | None


@readonly
def usage(session: Session) -> list[DictionaryUsage]:
    """Each dictionary with its annotations, per-entry counts, projects and last use, by name."""
    per_label: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    rows = session.execute(
        select(Annotation.labels, Annotation.updated_at).where(Annotation.consensus.is_(False))
    )
    labelled: list[tuple[set[str], datetime]] = []
    for labels, updated in rows:
        if labels:
            found = set(labels)
            labelled.append((found, updated))
            per_label.update(found)
            for label in found:
                last[label] = max(last.get(label, updated), updated)
    projects: dict[int, list[str]] = {}
    for dictionary_id, project in session.execute(
        select(ProjectLibrary.item_id, Project.name)
        .join(Project, Project.id == ProjectLibrary.project_id)
        .where(ProjectLibrary.kind == "dictionary")
        .order_by(Project.name)
    ):
        projects.setdefault(dictionary_id, []).append(project)
    out = []
    for d in list_dictionaries(session):
        entries = set(d.entries)
        used = [when for labels, when in labelled if labels & entries]
        out.append(
            DictionaryUsage(
                d.name,
                d.kind,
                d.version,
                len(d.entries),
                len(used),
                {e: per_label.get(e, 0) for e in d.entries},
                projects.get(d.id, []),
                max(used, default=None),
            )
        )
    return out


@readonly
def export_csv(session: Session) -> str:
    """Every dictionary as CSV text, one row per entry (``dictionary,kind,entry``): what
    :func:`import_csv` reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in list_dictionaries(session):
        for entry in d.entries:
            writer.writerow([d.name, d.kind, entry])
    return out.getvalue()


@dataclass
class DictionaryImport:
    """What :func:`import_csv` did."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Dictionaries whose entries or kind the file changed (each a new version)."""
    unchanged: list[str] = field(default_factory=list)


def import_csv(
    session: Session, source: str | Path | io.TextIOBase, *, by: User
) -> DictionaryImport:
    """Create or update dictionaries from CSV rows ``dictionary,kind,entry`` (managers and
    admins): each dictionary the file names gets exactly the file's entries, in its order.

    All or nothing: every row is checked first, and the bad ones (an empty or too long name or
    entry, two kinds for one dictionary) are refused together, each with its line, with nothing
    written."""
    require_supervisor(by, "edit dictionaries")
    rows = _csv.rows(source, {"dictionary", "entry"}, "dictionary", ",".join(CSV_COLUMNS))
    problems: list[str] = []
    wanted: dict[str, tuple[str, list[str], int]] = {}
    for line, row in rows:
        try:
            name = _text.name((row.get("dictionary") or "").strip(), "dictionary name")
            kind = _kind((row.get("kind") or "").strip() or "labels")
            entry = _text.name((row.get("entry") or "").strip(), f"entry of dictionary {name!r}")
        except ValidationError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        had_kind, entries, first = wanted.setdefault(name, (kind, [], line))
        if kind != had_kind:
            problems.append(
                f"line {line}: dictionary {name!r} is of kind {had_kind!r} on line {first}, "
                f"not {kind!r}"
            )
            continue
        entries.append(entry)
    if problems:
        raise ValidationError(
            "dictionary import refused, nothing was written:\n" + "\n".join(problems)
        )
    report = DictionaryImport()
    existing = {d.name: d for d in session.scalars(select(Dictionary))}
    for name, (kind, entries, _line) in wanted.items():
        found = existing.get(name)
        entries = list(dict.fromkeys(entries))
        if found is None:
            create(session, name, entries, kind=kind, by=by)
            report.created.append(name)
        elif (found.kind, list(found.entries)) != (kind, entries):
            edit(session, found.id, entries=entries, kind=kind, by=by)
            report.changed.append(name)
        else:
            report.unchanged.append(name)
    return report
