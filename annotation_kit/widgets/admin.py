"""AdminPanel: setting a workspace up — projects (create, describe, visibility, members,
archive, the skills and dictionaries they use), the skill library (usage, CSV in and out,
hot-key order, deprecation, merges), dictionaries (usage, CSV), guidelines (write, read earlier
versions, preview as annotators see it), settings and users (create, role, e-mail, projects,
disable, password, CSV import) — the one screen where admins manage people.

Everyone may open it and sees what the library lets them: visible projects read-only for a
visitor, guidelines to write for reviewers, everything for admins. Every action goes through the
services, which decide who may do it; a refusal is shown, not hidden.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from ..access import projects, users
from ..access.workflow import Role
from ..errors import ValidationError
from ..library import dictionaries, guidelines, skills
from ..work import views
from ..work.views import when
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class

TABS = views.TABS
"""The tabs, in order (:data:`annotation_kit.work.views.TABS`)."""


def _names(text: Any) -> list[str]:
    """Names typed as ``a, b c`` (commas or spaces)."""
    return [n for n in str(text or "").replace(",", " ").split() if n]


class AdminController:
    """Reads projects, the library, guidelines, settings and users; acts through the services."""

    watched = ("tab",)

    def __init__(self, workspace: Workspace, *, tab: str | None = None) -> None:
        self.ws = workspace
        self._opening = tab  # the tab the page was opened on (``?tab=users``), once

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Everything the tabs show, as far as this person may see it."""
        with self.ws.transaction(write=False) as session:
            shown = views.setup_page(session, self.ws.me(session))
        wanted, self._opening = self._opening or state["tab"], None
        tab = wanted if wanted in shown["tabs"] else "projects"
        guideline = state["guideline"]
        return (
            shown
            | {"tab": tab, "roles": [r.value for r in Role]}
            | self._guideline(guideline.get("scope", ""), guideline.get("name", ""))
        )

    def _guideline(self, scope: str, name: str, version: int | None = None) -> dict[str, Any]:
        """The guideline open in the Guidelines tab: its text, rendered, and its versions."""
        if scope not in ("project", "skill") or not name:
            return {"guideline": {}}
        where = {scope: name}
        with self.ws.transaction(write=False) as session:
            versions = guidelines.history(session, **where, by=self.ws.me(session))
            chosen = next((g for g in versions if g.version == version), None) or (
                versions[0] if versions else None
            )
            author = users.names(session)
            return {
                "guideline": {
                    "scope": scope,
                    "name": name,
                    "version": chosen.version if chosen else 0,
                    "body": chosen.body if chosen else "",
                    "html": guidelines.render(chosen.body) if chosen else "",
                    "versions": [
                        {
                            "version": g.version,
                            "when": when(g.created_at),
                            "who": author.get(g.author_id, ""),
                        }
                        for g in versions
                    ],
                    "reference": guidelines.reference(chosen, name) if chosen else "",
                }
            }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request; each names its action (see :data:`ACTIONS`)."""
        action = str(request.get("action") or "")
        if action == "refresh":
            return self.refresh(state)
        if action == "open_guideline":
            version = int(request.get("version") or 0) or None
            return self._guideline(str(request.get("scope")), str(request.get("name")), version)
        if action == "export_csv":
            which = str(request.get("what"))
            module = {"skills": skills, "dictionaries": dictionaries}.get(which)
            if module is None:
                raise ValidationError(f"nothing to export as {which!r}")
            return {"csv": getattr(self.ws, which).export_csv(), "_notice": f"{which} as CSV"}
        act = ACTIONS.get(action)
        if act is None:
            raise ValidationError(f"unknown request {action!r}")
        note = act(self.ws, request)
        out = self.refresh(state) | {"_notice": note}
        if action == "write_guideline":
            out |= self._guideline(str(request.get("scope")), str(request.get("name")))
        return out


def _text(request: dict[str, Any], key: str) -> str:
    return str(request.get(key) or "").strip()


def _create_project(ws: Workspace, r: dict[str, Any]) -> str:
    found = ws.projects.create(
        _text(r, "name"),
        description=str(r.get("description") or ""),
        members=_names(r.get("members")),
        visibility=_text(r, "visibility") or "private",
    )
    return f"created project {found.name} ({found.visibility})"


def _edit_project(ws: Workspace, r: dict[str, Any]) -> str:
    name = _text(r, "name")
    ws.projects.edit(
        name,
        description=r.get("description"),
        visibility=r.get("visibility") or None,
    )
    return f"project {name} saved"


def _members(ws: Workspace, r: dict[str, Any]) -> str:
    name, wanted = _text(r, "name"), set(_names(r.get("members")))
    now = {n for n, ps in ws.projects.memberships().items() if name in ps}
    with ws.transaction() as session:  # both in one transaction: all or nothing
        me = ws.me(session)
        projects.add_members(session, name, sorted(wanted - now), by=me)
        projects.remove_members(session, name, sorted(now - wanted), by=me)
    return f"members of {name}: {', '.join(sorted(wanted)) or 'none'}"


def _project_library(ws: Workspace, r: dict[str, Any]) -> str:
    name = _text(r, "name")
    with ws.transaction() as session:
        me = ws.me(session)
        skills.use_in_project(session, name, _names(r.get("skills")), by=me)
        dictionaries.use_in_project(session, name, _names(r.get("dictionaries")), by=me)
    return f"{name} now offers its own skills and labels (blank: the whole library)"


def _archive(ws: Workspace, r: dict[str, Any]) -> str:
    name = _text(r, "name")
    if r.get("archived"):
        ws.projects.archive(name)
        return f"project {name} archived"
    ws.projects.unarchive(name)
    return f"project {name} taken out of the archive"


def _create_skill(ws: Workspace, r: dict[str, Any]) -> str:
    found = ws.skills.create(
        _text(r, "name"),
        category=_text(r, "category"),
        description=str(r.get("description") or ""),
        requires=_names(r.get("requires")),
    )
    return f"skill {found.name} added"


def _import(ws: Workspace, r: dict[str, Any]) -> str:
    what = _text(r, "what")
    if what not in ("skills", "dictionaries", "users"):
        raise ValidationError(f"nothing to import as {what!r}")
    text = str(r.get("csv") or "")
    if not text.strip():
        raise ValidationError("paste CSV text (with its header line) first")
    report = getattr(ws, what).import_csv(text)
    if what == "users":
        return f"users imported: {len(report.created)} created, {len(report.role_changed)} changed"
    return (
        f"{what} imported: {len(report.created)} created, {len(report.changed)} changed, "
        f"{len(report.unchanged)} unchanged"
    )


def _deprecate(ws: Workspace, r: dict[str, Any]) -> str:
    name = _text(r, "name")
    if r.get("deprecated"):
        ws.skills.deprecate(name)
        return f"skill {name} deprecated: no longer offered, kept where used"
    ws.skills.restore(name)
    return f"skill {name} offered again"


def _merge(ws: Workspace, r: dict[str, Any]) -> str:
    name, into = _text(r, "name"), _text(r, "into")
    moved = ws.skills.merge(name, into)
    return f"skill {name} merged into {into}: {moved} annotation(s) re-pointed"


def _reorder(ws: Workspace, r: dict[str, Any]) -> str:
    order = ws.skills.reorder(_names(r.get("order")))
    return f"hot-key order: {', '.join(order[:9])}"


def _create_dictionary(ws: Workspace, r: dict[str, Any]) -> str:
    found = ws.dictionaries.create(
        _text(r, "name"), _names(r.get("entries")), kind=_text(r, "kind") or "labels"
    )
    return f"dictionary {found.name} added ({len(found.entries)} entries)"


def _write_guideline(ws: Workspace, r: dict[str, Any]) -> str:
    scope, name = _text(r, "scope"), _text(r, "name")
    if scope not in ("project", "skill"):
        raise ValidationError("choose a project or a skill to write its guideline")
    found = ws.guidelines.write(str(r.get("body") or ""), **{scope: name})
    return f"guideline of {scope} {name}: version {found.version}"


def _change_setting(ws: Workspace, r: dict[str, Any]) -> str:
    key = _text(r, "key")
    if r.get("reset"):
        ws.settings.reset(key)
        return f"{key} is back to its default"
    try:
        value = json.loads(str(r.get("value") or ""))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{key}: write the value as JSON ({exc.msg})") from None
    ws.settings.change(key, value)
    return f"{key} set to {json.dumps(value)}"


def _user(ws: Workspace, r: dict[str, Any]) -> str:
    what = _text(r, "what")
    if what not in USER_CHANGES:
        raise ValidationError(f"unknown change to a user: {what!r}")
    return USER_CHANGES[what](ws, _text(r, "name"), r)


def _new_user(ws: Workspace, name: str, r: dict[str, Any]) -> str:
    made = ws.users.create(name, _text(r, "role") or "annotator", email=_text(r, "email") or None)
    if not r.get("password"):
        return f"created {made.name} ({made.role}); they need a password to log in"
    ws.logins.set_password(made.name, str(r["password"]))
    return f"created {made.name} ({made.role}) with a password"


def _password(ws: Workspace, name: str, r: dict[str, Any]) -> str:
    ws.logins.set_password(name, str(r.get("password") or ""))
    return f"password of {name} set; their open sessions ended"


def _email(ws: Workspace, name: str, r: dict[str, Any]) -> str:
    user = ws.users.set_email(name, _text(r, "email") or None)
    return f"e-mail address of {user.name}: {user.email or 'none'}"


def _membership(ws: Workspace, name: str, r: dict[str, Any], *, join: bool) -> str:
    project = _text(r, "project")
    if not project:
        raise ValidationError("choose a project first")
    if join:
        ws.projects.add_members(project, [name])
        return f"{name} is a member of {project}"
    ws.projects.remove_members(project, [name])
    return f"{name} is no longer a member of {project}"


USER_CHANGES: dict[str, Callable[[Workspace, str, dict[str, Any]], str]] = {
    "create": _new_user,
    "role": lambda ws, name, r: f"{name} is now {ws.users.set_role(name, _text(r, 'role')).role}",
    "disabled": lambda ws, name, _r: f"{name} is {ws.users.set_status(name, 'disabled').status}",
    "active": lambda ws, name, _r: f"{name} is {ws.users.set_status(name, 'active').status}",
    "password": _password,
    "email": _email,
    "join": functools.partial(_membership, join=True),
    "leave": functools.partial(_membership, join=False),
}
"""What an admin may change about a user from the users tab."""


ACTIONS = {
    "create_project": _create_project,
    "edit_project": _edit_project,
    "members": _members,
    "project_library": _project_library,
    "archive": _archive,
    "create_skill": _create_skill,
    "import": _import,
    "deprecate": _deprecate,
    "merge": _merge,
    "reorder": _reorder,
    "create_dictionary": _create_dictionary,
    "write_guideline": _write_guideline,
    "setting": _change_setting,
    "user": _user,
}
"""What the browser may ask for besides ``refresh``, ``open_guideline`` and ``export_csv``."""


SPEC = Spec(
    name="AdminPanel",
    esm=HERE / "admin.js",
    css=HERE / "widgets.css",
    controller=AdminController,
    doc="Setting up: projects, skill library, dictionaries, guidelines, settings, users.",
    traits={
        "tab": Trait(str, "projects", "The tab shown."),
        "tabs": Trait(list, [], "The tabs this person may open."),
        "can": Trait(dict, {}, "What this person may change, per part."),
        "projects": Trait(list, [], "The projects this person sees, with members and library."),
        "skills": Trait(list, [], "The skill library with usage, order and requirements."),
        "dictionaries": Trait(list, [], "Dictionaries with usage per entry and projects."),
        "guideline": Trait(dict, {}, "The guideline open: text, rendered HTML, versions."),
        "settings": Trait(list, [], "Workspace settings as JSON (admins)."),
        "users": Trait(list, [], "Users with role, status, projects (admins)."),
        "roles": Trait(list, [], "Role names."),
        "csv": Trait(str, "", "The last CSV export, to copy."),
    },
)

AdminPanel = notebook_class(SPEC)
AdminPanelPanel = panel_class(SPEC)
