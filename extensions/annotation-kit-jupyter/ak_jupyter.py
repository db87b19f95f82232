"""The JupyterLab launcher card "Annotation dashboards": jupyter-server-proxy starts
``annotation-kit serve`` on a free port the first time the card is opened and proxies it at
``<jupyter base URL>annotation-dashboards/``. The workspace is ``$ANNOTATION_KIT_URL`` (else the
default one); people log in there as themselves, as on any served instance."""

from __future__ import annotations

import sys
from typing import Any

NAME = "annotation-dashboards"


def setup() -> dict[str, Any]:
    """jupyter-server-proxy's description of the server to start and of its launcher card."""
    return {
        "command": [
            sys.executable,
            "-m",
            "annotation_kit.cli",
            "serve",
            "--port",
            "{port}",
            "--prefix",
            "{base_url}" + NAME,
            "--allow-websocket-origin",
            "*",
        ],
        "absolute_url": True,
        "timeout": 60,
        "launcher_entry": {"title": "Annotation dashboards", "category": "Other"},
        "new_browser_tab": True,
    }
