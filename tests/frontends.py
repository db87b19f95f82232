"""Real front ends, shared by the UI tests and the UI benches: Debian's Chromium driven by
Playwright, and ``panel serve`` of a small app file. (``playwright install`` cannot download
browsers here, so Chromium is the system one, at ``$ANNOTATION_KIT_CHROMIUM``.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("ANNOTATION_KIT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, through a running ``sync_playwright()``."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60, log: Path | None = None):
    """Wait until ``url`` answers; fail with the server's output if it exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            said = log.read_text() if log else (process.stdout.read() if process.stdout else "")
            raise RuntimeError(f"server exited: {said}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a server process; kill it if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class PanelServer:
    """``panel serve`` of the app source ``app`` (written to ``folder/name.py``), with ``env``
    added to the environment; its output goes to ``folder/name.log``. ``url`` is the app's page."""

    def __init__(
        self,
        app: str,
        folder: Path,
        env: dict[str, str],
        *,
        name: str | None = None,
        port: int | None = None,
    ):
        self.port = port or free_port()
        name = name or f"app_{self.port}"
        script = folder / f"{name}.py"
        script.write_text(app)
        self.log = folder / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "panel",
                    "serve",
                    str(script),
                    "--address",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--allow-websocket-origin",
                    f"127.0.0.1:{self.port}",
                    "--num-procs",
                    "1",
                ],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}/{name}"
        try:
            wait_http(f"http://127.0.0.1:{self.port}/", self.process, log=self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop(self.process)

    def __enter__(self) -> PanelServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
