"""The package's structure: no import cycle among its modules, and no import going up the
rooms' layers (top-level or inside functions; imports under ``if TYPE_CHECKING`` only name
types and are left out). ARCHITECTURE.md draws the same layers."""

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[2] / "annotation_kit"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if child in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & set(modules)


def test_no_import_cycle_among_the_packages_modules():
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in _imports(name, path, modules))
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"
    assert ("annotation_kit.jobs.worker", "annotation_kit.workspace") in graph.edges


def test_widgets_and_pages_reach_the_store_only_through_services():
    """Nothing under widgets/ (or the served app's pages) imports SQLAlchemy or the models at
    run time: views call service functions; the models may only be named as types."""
    modules = _modules()
    views = [
        name
        for name in modules
        if name.startswith(("annotation_kit.widgets", *(f"annotation_kit.app.{p}" for p in PAGES)))
    ]
    assert views
    for name in views:
        tree = ast.parse(modules[name].read_text())
        typing_only = {
            id(node)
            for branch in ast.walk(tree)
            if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
            for node in ast.walk(branch)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            imported = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom):  # from .. import models counts too
                imported = [node.module or "", *(f"{node.module or ''}.{a}" for a in imported)]
            for target in (t.strip(".") for t in imported):
                assert not target.startswith("sqlalchemy"), f"{name} imports {target}"
                assert target.split(".")[-1] != "models", f"{name} imports {target}"


PAGES = ("pages", "tasks", "notebook", "statistics", "_drawing")
"""The served app's page modules (the rest of app/ is the server: logins, news, workers)."""

LAYERS = [
    {"errors", "_moved"},
    {"store"},
    {"access"},
    {"library", "data", "formats"},
    {"work"},
    {"quality"},
    {"exports", "jobs"},
    {"workspace", "_service_types"},
    {"widgets", "app", "demo", "cli", ""},
]
"""The rooms from the bottom up: a module imports its own layer and the ones below."""

UPWARD = {
    # a setting's check asks the layer that knows the values (settings are kept below it)
    ("annotation_kit.library.settings", "annotation_kit.exports"),
    ("annotation_kit.library.settings", "annotation_kit.work.review_sampling"),
    # a worker process runs each job as a workspace user
    ("annotation_kit.jobs.worker", "annotation_kit.workspace"),
}
"""The imports that go up, each inside the one function that needs it."""


def _layer(module: str) -> int:
    room = module.split(".")[1] if "." in module else ""
    return next(i for i, rooms in enumerate(LAYERS) if room in rooms)


def test_no_import_goes_up_the_layers():
    modules = _modules()
    rooms = {name.split(".")[1] for name in modules if "." in name}
    assert rooms <= set().union(*LAYERS), f"rooms without a layer: {rooms - set().union(*LAYERS)}"
    upward = {
        (name, target)
        for name, path in modules.items()
        for target in _imports(name, path, modules)
        if _layer(target) > _layer(name)
    }
    assert upward == UPWARD, f"imports going up the layers: {sorted(upward - UPWARD)}"


def test_the_package_top_holds_only_the_facade():
    """Everything else lives in a room: a newcomer reads the tree like a map."""
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == [
        "__init__.py",
        "_moved.py",
        "_service_types.py",
        "cli.py",
        "demo.py",
        "errors.py",
        "workspace.py",
    ]
