"""The skill library: versioned skills (every edit a new version; annotations keep the one
they used), with categories, dependencies (``requires``: skills that must come before in an
episode, checked with the project's rules), hot-key order, deprecation and merges.

The library travels as CSV (``name,category,description,tags,requires,deprecated``; lists
separated by ``;``): ``ws.skills.export_csv()`` and ``ws.skills.import_csv(path_or_text)`` (all
or nothing). ``ws.skills.usage()`` says how much each skill is used; ``ws.skills.offered(task)``
what an annotator of that task is offered (the project's skills, none deprecated).
Label dictionaries are :mod:`annotation_kit.library.dictionaries`.
"""

from .core import (
    create,
    deprecate,
    edit,
    get,
    list_skills,
    merge,
    names,
    offered,
    reorder,
    requirements,
    restore,
    use_in_project,
    version,
)
from .counts import Usage, usage
from .transfer import SkillImport, export_csv, import_csv

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
