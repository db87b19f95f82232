"""A login flood beside someone's work: how much slower another person's pages load while
clients post wrong passwords as fast as they can.

Starts ``annotation-kit serve`` on a fresh SQLite workspace behind a pretend proxy
(``--forwarded-allow-ips 127.0.0.1``, so each client's address comes from ``X-Forwarded-For``).
A logged-in annotator loads *My work* (the page's HTML, a Bokeh session made on the server)
again and again, from its own address; meanwhile 4 threads post logins with wrong passwords:
1. from one client address, always the admin's name (after 5 failures that name waits longer
   before each answer, asynchronously; the admin still logs in from their own address);
2. from one client address, a new name each time (the address is stopped after 20 failures:
   refused without hashing);
3. from a new address and a new user name each time (a distributed flood: every attempt
   costs an argon2 hash, on the server's one hashing thread, never its event loop).
Prints the page load p50 / p95 alone and during each flood, and how many attempts the flood
made. Goal (issue 27): a flood from one client does not slow another session's page by more
than 2x. Run: ``python bench/login_flood.py [--loads 40]``.
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

import annotation_kit as ak

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.frontends
from tests.frontends import free_port, stop, wait_http

PASSWORD = "bench-password-1"
FLOODERS = 4


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def client(base: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-Forwarded-For": address}, timeout=60)


def log_in(http: httpx.Client, name: str, password: str) -> httpx.Response:
    page = http.get("/login")
    found = re.search(r'name="_xsrf" value="([^"]*)"', page.text)
    token = found.group(1) if found else ""
    form = {"username": name, "password": password, "next": "/", "_xsrf": token}
    return http.post("/login", data=form)


def loads(base: str, count: int) -> list[float]:
    """Page loads of *My work* by a logged-in annotator from its own address, in ms."""
    with client(base, "10.0.0.2") as http:
        log_in(http, "ann", PASSWORD)
        times = []
        for _ in range(count):
            start = time.perf_counter()
            answer = http.get("/work")
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.status_code
        return times


def flood(base: str, stop_at: threading.Event, rotate: bool, made: list[int]) -> None:
    counter = itertools.count()
    with client(base, "10.66.0.1") as http:
        while not stop_at.is_set():
            n = next(counter)
            if rotate:
                http.headers["X-Forwarded-For"] = f"10.77.{n // 250 % 250}.{n % 250 + 1}"
            log_in(http, f"guess{n}" if rotate else "ada", "not-the-password")
            made.append(1)


def during(base: str, count: int, rotate: bool) -> tuple[list[float], int]:
    stop_at, made = threading.Event(), []
    threads = [
        threading.Thread(target=flood, args=(base, stop_at, rotate, made)) for _ in range(FLOODERS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the flood is under way
    try:
        return loads(base, count), len(made)
    finally:
        stop_at.set()
        for thread in threads:
            thread.join()


def report(label: str, times: list[float], alone: list[float] | None = None) -> None:
    ratio = f"  ({statistics.median(times) / statistics.median(alone):.2f}x alone)" if alone else ""
    print(f"{label:48} p50 {statistics.median(times):7.1f} ms  p95 {pct(times, 95):7.1f} ms{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'workspace.db'}"
        ws = ak.connect(url, user="ada")
        ws.users.create("ann", "annotator")
        for name in ("ada", "ann"):
            ws.logins.set_password(name, PASSWORD)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = folder / "serve.log"
        command = [sys.executable, "-m", "annotation_kit.cli", "serve", "--url", url]
        command += ["--port", str(port), "--forwarded-allow-ips", "127.0.0.1"]
        with log.open("w") as out:
            server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_http(f"{base}/login", server, log=log)
            loads(base, 5)  # warm up
            alone = loads(base, args.loads)
            print(f"{FLOODERS} flooding threads; page: GET /work as a logged-in annotator")
            report("alone", alone)
            for kind, label in (
                ("one name", "one address, the admin's name"),
                ("names", "one address, a new name each time"),
                ("addresses", "a new address and name each time"),
            ):
                times, made = during(base, args.loads, kind)
                report(f"flood from {label} ({made} tries)", times, alone)
        except Exception:
            print(log.read_text()[-3000:])
            raise
        finally:
            stop(server)


if __name__ == "__main__":
    main()
