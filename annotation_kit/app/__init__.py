"""The served app: ``annotation-kit serve`` (:mod:`.server`), its logins (:mod:`.auth`,
:mod:`.oidc`, :mod:`.throttle`), pages (:mod:`.pages`), news between server processes
(:mod:`.news`), the worker beside it (:mod:`.workers`) and its composed pages: the tasks page
(:mod:`.tasks`, wired once for a notebook, :mod:`.notebook`, and the served app) and Statistics
(:mod:`.statistics`).

Everything here but :func:`tasks_view` needs the ``serve`` extra; names are imported when first
used, so ``from annotation_kit.app import tasks_view`` works in a notebook without Panel."""

from typing import TYPE_CHECKING, Any

from .notebook import tasks_view

if TYPE_CHECKING:
    from .pages import TasksDashboard
    from .server import ensure_admin, secret_folder, serve
    from .statistics import StatisticsDashboard

__all__ = [
    "StatisticsDashboard",
    "TasksDashboard",
    "ensure_admin",
    "secret_folder",
    "serve",
    "tasks_view",
]

_SERVED = {
    "TasksDashboard": "pages",
    "StatisticsDashboard": "statistics",
    "serve": "server",
    "ensure_admin": "server",
    "secret_folder": "server",
    "ADMIN_ENV": "server",
    "ADMIN_PASSWORD_ENV": "server",
}


def __getattr__(name: str) -> Any:
    if name not in _SERVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    from ..store._plugins import extra

    extra("serve", "panel", name)  # named here: the page modules import Panel first thing
    return getattr(import_module(f".{_SERVED[name]}", __name__), name)
