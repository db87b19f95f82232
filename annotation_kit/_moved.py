"""Old import paths of the modules that moved into rooms (``annotation_kit.tasks`` is now
``annotation_kit.work.tasks``): importing an old path gives the module at its new place, with a
``DeprecationWarning`` naming it. Kept for one release."""

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

ROOMS = {
    "store": (
        "models",
        "database",
        "_paging",
        "writes",
        "_plugins",
        "migrations",
        "locations",
        "task_refs",
    ),
    "access": (
        "workflow",
        "visibility",
        "events",
        "users",
        "projects",
        "logins",
        "database_logins",
        "_inputs",
        "_text",
        "_csv",
    ),
    "library": ("skills", "dictionaries", "guidelines", "storage", "settings"),
    "data": ("datasets", "dataset_queries", "episodes", "imports", "checks", "synthetic"),
    "work": (
        "agreement",
        "tasks",
        "task_queries",
        "transitions",
        "annotations",
        "annotation_queries",
        "reviews",
        "consensus",
        "rules",
        "progress",
        "feedback",
        "notifications",
        "mail",
    ),
    "quality": ("gold", "workload", "charts", "analytics"),
}
MOVED = {
    f"annotation_kit.{name}": f"annotation_kit.{room}.{name}"
    for room, names in ROOMS.items()
    for name in names
}
MOVED |= {"annotation_kit.server": "annotation_kit.app.server"} | {
    f"annotation_kit.server.{name}": f"annotation_kit.app.{name}"
    for name in ("auth", "oidc", "pages", "news", "throttle", "workers")
}
MOVED |= {
    "annotation_kit.dashboards": "annotation_kit.app",
    "annotation_kit.dashboards.tasks": "annotation_kit.app.pages",
    "annotation_kit.dashboards.notebook": "annotation_kit.app.notebook",
    "annotation_kit.dashboards.people": "annotation_kit.app.statistics",
    "annotation_kit.dashboards._drawing": "annotation_kit.app._drawing",
}
"""Old module name → where it lives now."""


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there (the old path goes in the next "
            "release)",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._real_spec  # importing under the old name set it to the alias's


def install() -> None:
    """Let old import paths find the moved modules (once per process)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
