"""Real front ends for the UI tier: Chromium (Debian's, driven by Playwright), ``panel serve``
and JupyterLab processes started per test module. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.frontends import PanelServer, free_port, launch_chromium, stop, wait_http

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except FileNotFoundError as exc:  # a real part is missing: fail, never skip
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def box(page, selector: str, *, first: bool = False, timeout: float = 10) -> dict[str, float]:
    """Where ``selector`` is on screen, once it is: a widget redraws after each answer from
    Python, and between two draws an element may be briefly absent."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        locator = page.locator(selector)
        found = (locator.first if first else locator).bounding_box()
        if found is not None:
            return found
        page.wait_for_timeout(50)
    raise AssertionError(f"{selector} was not shown within {timeout} s")


def press_across_a_redraw(page, selector: str, redrawn: str) -> None:
    """Press ``selector``, have the widget answered and redrawn meanwhile (as when news or
    frames arrive; ``redrawn`` is an element each draw builds anew), then release: a person's
    click that an answer happens to interrupt."""
    button = box(page, selector)
    page.mouse.move(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    page.mouse.down()
    marker = page.locator(redrawn)
    marker.evaluate("node => { node.__before = true; }")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # asks for a refresh
    deadline = time.time() + 10
    while marker.evaluate("node => Boolean(node.__before)"):
        assert time.time() < deadline, f"no redraw of {redrawn} within 10 s"
        page.wait_for_timeout(50)
    page.mouse.up()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def app_source(widget: str, make: str | None = None, *, package: str = "widgets") -> str:
    """A ``panel serve`` script showing one Panel widget (or dashboard), acting as the env's user.

    ``make`` is the expression building it from ``ws`` (default ``{widget}(ws)``)."""
    return f"""
import os
import panel as pn
import annotation_kit as ak
from annotation_kit.{package} import {widget}

pn.extension()
ws = ak.connect(os.environ["ANNOTATION_KIT_URL"], user=os.environ["ANNOTATION_KIT_USER"])
{make or f"{widget}(ws)"}.servable()
"""


@pytest.fixture
def panel_app(tmp_path):
    servers = []

    def start(app: str, url: str, user: str) -> PanelServer:
        env = {"ANNOTATION_KIT_URL": url, "ANNOTATION_KIT_USER": user}
        server = PanelServer(app, tmp_path, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class JupyterLab:
    """A JupyterLab server in its own config/data/runtime folders, serving ``root``."""

    def __init__(self, root: Path, home: Path):
        self.port, self.token, self.root = free_port(), "ak-test-token", root
        settings = home / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "run"),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                f"--LabApp.user_settings_dir={home / 'settings'}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_http(f"http://127.0.0.1:{self.port}/api?token={self.token}", self.process, 90)

    def notebook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    lab = JupyterLab(tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("home"))
    yield lab
    lab.stop()


def write_notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


def run_all_cells(page, count: int) -> None:
    """Run the notebook's cells one by one, waiting for each to finish (as a person would)."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # "idle" shows before a kernel exists: wait for the kernel's name in the toolbar too
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-Toolbar-kernelName')]
                 .some(e => /Python/.test(e.textContent))""",
        timeout=60_000,
    )
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    for index in range(count):
        for attempt in range(2):
            cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
            cell.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_function(
                    """(i) => {
                        const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
                        const prompt = cell && cell.querySelector('.jp-InputPrompt');
                        return prompt && /\\[\\d+\\]/.test(prompt.textContent);
                    }""",
                    arg=index,
                    timeout=30_000 if attempt == 0 else 60_000,
                )
                break
            except Exception:
                if attempt:
                    raise
