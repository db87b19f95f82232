"""Write ``annotation_kit/_service_types.py``: one Protocol per ``ws.<service>``, each method the
service function's signature without ``session`` and ``by`` (which the workspace supplies), so
``ws.tasks.submit(`` completes in JupyterLab and pyright checks the arguments.

Run ``python tools/service_types.py`` after changing a service's signature;
``tests/unit/test_service_types.py`` fails while the file is out of date."""

from __future__ import annotations

import ast
import builtins
import inspect
import subprocess
import sys
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "annotation_kit" / "_service_types.py"
BUILTINS = set(dir(builtins)) | {"None"}


def _qualified(annotation: str, alias: str) -> str:
    """``annotation`` (source text) with each module-level name read from ``alias``."""

    class Qualify(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in BUILTINS:
                return node
            return ast.copy_location(ast.Attribute(ast.Name(alias), node.id, ast.Load()), node)

    tree = Qualify().visit(ast.parse(annotation, mode="eval"))
    return ast.unparse(tree)


def _method(name: str, fn: object, alias: str) -> str:
    signature = inspect.signature(fn)  # type: ignore[arg-type]
    parts: list[str] = ["self"]
    star = False
    slash = False
    for p in signature.parameters.values():
        if p.name in ("session", "by"):
            continue
        if not isinstance(p.annotation, str) and p.annotation is not p.empty:
            raise TypeError(f"{fn!r}: annotations must be strings (from __future__ import)")
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text, star = f"*{p.name}", True
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
        elif p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if (
            p.kind is not p.POSITIONAL_ONLY
            and not slash
            and any(q.kind is q.POSITIONAL_ONLY for q in signature.parameters.values())
        ):
            parts.append("/")
            slash = True
        if p.annotation is not p.empty:
            text += f": {_qualified(p.annotation, alias)}"
        if p.default is not p.empty:
            text += " = ..."
        parts.append(text)
    returns = signature.return_annotation
    result = "" if returns is signature.empty else f" -> {_qualified(returns, alias)}"
    doc = inspect.getdoc(fn) or ""
    first = doc.split("\n\n")[0].replace("\n", " ").replace('"""', "'''").replace("\\", "\\\\")
    head = f"    def {name}({', '.join(parts)}){result}:"
    if len(head) > 100:
        inner = ",\n".join(f"        {part}" for part in parts)
        head = f"    def {name}(\n{inner},\n    ){result}:"
    body = f'        """{first}"""\n        ...\n' if first else "        ...\n"
    return f"{head}\n{body}"


def render() -> str:
    """The file's text, from the service modules as they are now."""
    sys.path.insert(0, str(ROOT))
    from annotation_kit.workspace import SERVICE_MODULES, _service_functions

    services = dict(SERVICE_MODULES) | {"exports": "exports.run"}
    imports, classes = set(), []
    for attribute, where in sorted(services.items()):
        module = import_module(f"annotation_kit.{where}")
        methods = []
        for name, fn in sorted(_service_functions(module).items()):
            home = fn.__module__  # where it is defined: its annotations' names live there
            alias = "_" + home.removeprefix("annotation_kit.").replace(".", "_")
            package, _, leaf = home.rpartition(".")
            methods.append(_method(name, fn, alias))
            if f"{alias}." in methods[-1]:
                room = package.removeprefix("annotation_kit.")
                imports.add(f"    from .{room} import {leaf} as {alias}")
        title = "".join(part.title() for part in attribute.split("_"))
        doc = f"``ws.{attribute}``: :mod:`annotation_kit.{where}` as the workspace's user."
        classes.append(f'class {title}(Protocol):\n    """{doc}"""\n\n' + "\n".join(methods))
    text = (
        '"""What ``ws.<service>`` offers, for editors and type checkers: written by\n'
        '``tools/service_types.py`` from the service modules (do not edit; run it again)."""\n\n'
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n\n"
        "from typing import TYPE_CHECKING, Protocol\n\n"
        "if TYPE_CHECKING:\n" + "\n".join(sorted(imports)) + "\n\n\n" + "\n\n".join(classes)
    )
    ruff = Path(sys.executable).with_name("ruff")  # formatted as the project's code is
    formatted = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return formatted.stdout


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")
