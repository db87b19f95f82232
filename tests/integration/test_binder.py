"""binder/ run as repo2docker runs it — the requirements installed into a fresh virtual
environment, ``postBuild`` once, then ``start`` in front of the command — and what a Binder
user gets from it: the demo workspace, its URL for the notebooks, the served dashboards and
the launcher card."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.frontends import free_port, stop, wait_http

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import os
from importlib.metadata import entry_points
import annotation_kit as ak
import jupyter_server_proxy  # noqa: F401  (the launcher card's server extension)

url = os.environ["ANNOTATION_KIT_URL"]
counts = ak.connect(url, user="maya").task_queries.board().counts
cards = [e.name for e in entry_points(group="jupyter_serverproxy_servers")]
print(url, sum(counts.values()), cards)
"""


def test_binder_builds_the_demo_and_serves_it(tmp_path):
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.12"
    venv, home = tmp_path / "venv", tmp_path / "home"
    home.mkdir()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    install = [str(venv / "bin/pip"), "install", "--quiet", "-r", "binder/requirements.txt"]
    subprocess.run(install, cwd=ROOT, check=True)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    subprocess.run(["bash", str(ROOT / "binder/postBuild")], env=env, cwd=home, check=True)
    assert (home / "demo-workspace/workspace.db").exists()
    start = [str(ROOT / "binder/start")]
    said = subprocess.run(
        [*start, "python", "-c", CHECK], env=env, cwd=home, check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    url, tasks, cards = said.split(" ", 2)
    assert url == f"sqlite:///{home}/demo-workspace/workspace.db"
    assert int(tasks) > 0 and "annotation-dashboards" in cards
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [*start, "annotation-kit", "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/login", server, log=tmp_path / "serve.log")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as page:
            assert b"annotation_kit" in page.read()
        assert os.stat(home / "demo-workspace/cookie-secret").st_mode & 0o077 == 0
    finally:
        stop(server)
