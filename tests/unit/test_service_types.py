"""``annotation_kit/_service_types.py`` (what ``ws.<service>`` offers, for editors and pyright)
is up to date with the service modules: ``python tools/service_types.py`` writes it again."""

import importlib.util
from pathlib import Path

from annotation_kit import _service_types
from annotation_kit.workspace import SERVICE_MODULES

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("service_types", ROOT / "tools/service_types.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_service_types_are_those_of_the_service_modules_now():
    tool = _tool()
    assert tool.TARGET.read_text() == tool.render(), "run: python tools/service_types.py"


def test_every_service_has_its_protocol_with_every_function(tmp_path):
    import annotation_kit as ak

    ws = ak.connect(f"sqlite:///{tmp_path / 'workspace.db'}", user="admin")
    for attribute in [*SERVICE_MODULES, "exports"]:
        protocol = getattr(_service_types, "".join(p.title() for p in attribute.split("_")))
        declared = {n for n in vars(protocol) if not n.startswith("_")}
        assert declared == set(dir(getattr(ws, attribute))), attribute
    ws.close()
