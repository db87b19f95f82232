"""Two ``annotation-kit serve`` instances behind a real nginx (``deploy/nginx.conf``), sharing
one PostgreSQL workspace and one Redis queue: a person logged in through the proxy stays on
one instance; a notification written through the other instance reaches her open page within
2 s (PostgreSQL ``NOTIFY``, no polling per page); logging out through the proxy ends the
session on both instances."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from annotation_kit.data import synthetic
from tests.conftest import _pg_schema, make_team
from tests.frontends import free_port, stop, wait_http
from tests.protocol import Page, log_in
from tests.ui.test_served_app import PASSWORDS, SECRET

DEPLOY = Path(__file__).parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_conf(folder: Path, listen: int, ports: list[int]) -> Path:
    """``deploy/nginx.conf`` with these ports, in a main configuration of its own."""
    site = DEPLOY.read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
    site = re.sub(r"(    ip_hash;\n)(    server [^\n]*\n)+", lambda m: m.group(1) + servers, site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    conf = folder / "nginx.conf"
    conf.write_text(
        f"user root;\ndaemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log {folder}/access.log;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n{site}\n}}\n"
    )
    return conf


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    for url in _pg_schema():
        folder = tmp_path_factory.mktemp("two")
        team = make_team(url)
        ada, maya = team["ada"], team["maya"]
        for name in ("ada", "ann", "maya"):
            ada.logins.set_password(name, PASSWORDS[name])
        env = {
            **os.environ,
            "ANNOTATION_KIT_COOKIE_SECRET": SECRET,
            "ANNOTATION_KIT_QUEUE": "redis://127.0.0.1:6379/13",
        }
        ports = [free_port(), free_port()]
        proxy = free_port()
        servers = []
        for port in ports:
            log = (folder / f"serve_{port}.log").open("w")
            command = [sys.executable, "-m", "annotation_kit.cli", "serve", "--workers", "0"]
            command += ["--url", url, "--port", str(port)]
            command += ["--allow-websocket-origin", f"127.0.0.1:{proxy}"]
            command += ["--allow-websocket-origin", f"127.0.0.1:{port}"]
            command += ["--forwarded-allow-ips", "127.0.0.1"]
            servers.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
        for port, server in zip(ports, servers, strict=True):
            wait_http(f"http://127.0.0.1:{port}/login", server, log=folder / f"serve_{port}.log")
        conf = nginx_conf(folder, proxy, ports)
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(folder)])
        wait_http(f"http://127.0.0.1:{proxy}/login", nginx, log=folder / "error.log")
        episode = synthetic.write_mcap(folder / "ep.mcap", duration_s=3, seed=1)
        team.dataset_ids = maya.import_datasets(episode, progress=False).dataset_ids
        try:
            yield team, f"http://127.0.0.1:{proxy}", ports
        finally:
            stop(nginx)
            for server in servers:
                stop(server)
            ada.close()


def _upstream(http: httpx.Client, path: str) -> str:
    return http.get(path).headers["x-upstream"]


def test_a_session_stays_on_one_instance_hears_the_other_and_logs_out_of_both(deployment, browser):
    team, proxy, ports = deployment
    maya = team["maya"]
    task = maya.tasks.create(
        "told across", datasets=team.dataset_ids, annotators=["ann2"], reviewers=["rita"]
    )
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{proxy}/work")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORDS["ann"])
    page.click("[data-testid=login]")
    page.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    cookie = {c["name"]: c["value"] for c in context.cookies()}["annotation_kit"]
    with httpx.Client(base_url=proxy, cookies={"annotation_kit": cookie}) as http:
        served_by = {_upstream(http, "/work") for _ in range(5)}
    assert len(served_by) == 1  # sticky: every request of the session on one instance
    [mine] = served_by
    other = next(p for p in ports if not mine.endswith(f":{p}"))
    unread = team["ann"].notifications.unread_count()
    page.wait_for_selector(f"[data-testid=bell] >> text=Notifications · {unread}")

    async def assign_through_the_other_instance() -> None:
        base = f"http://127.0.0.1:{other}"
        cookies = await log_in(base, "maya", PASSWORDS["maya"])
        manager = await Page.open(base, cookies, "/tasks")
        await manager.wait(lambda: _has(manager, "TaskBoard"))
        write = await manager.request(
            "TaskBoard", "reassign", ids=[task.id], annotators=["ann"], reviewers=["rita"]
        )
        await manager.wait(lambda: write in manager.answered)
        error = manager.state("TaskBoard").get("_error")
        assert not error, error
        manager.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(assign_through_the_other_instance())).result()
    assert team["ann"].notifications.unread_count() == unread + 1
    # told through PostgreSQL, the page on the first instance shows it: no reload, no click
    page.wait_for_selector(
        f"[data-testid=bell] >> text=Notifications · {unread + 1}", timeout=2_000
    )

    with page.expect_navigation():
        page.click("[data-testid=logout]")
    for port in ports:  # the cookie is no good on either instance now
        answer = httpx.get(f"http://127.0.0.1:{port}/work", cookies={"annotation_kit": cookie})
        assert answer.status_code in (302, 303, 403), (port, answer.status_code)
    context.close()


def _has(page: Page, kind: str) -> bool:
    try:
        page.widget(kind)
    except LookupError:
        return False
    return True
