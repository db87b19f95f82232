"""An annotation save through the served app, in Chromium: Enter pressed in the annotator until
the new segment's row is in the page (sent, committed, answered, drawn), timed in the page.

Starts ``annotation-kit serve`` on a fresh SQLite workspace with one generated 60 s episode and
one task per browser session, logs each session in as its own annotator, opens *My work* →
the task → *Annotate…*, and saves segments: first with 1 session, then with 10 at once (each
page runs its saves on its own, all together). Figures to compare: Label Studio's annotation
create over HTTP (p50 50–87 ms, p95 75–130 ms on this kind of machine); the goal is p95 ≤ 30 ms
with 1 session and ≤ 60 ms with 10.
Run: ``python bench/served_save.py [--saves 40]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

import annotation_kit as ak
from annotation_kit.data import synthetic

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.frontends
from tests.frontends import free_port, launch_chromium, stop, wait_http

SESSIONS = 10
PASSWORD = "bench-password-1"
# Inside Panel's shadow DOM: mark a start and an end, then time Enter until the new row shows.
SAVES_JS = """
async (count) => {
  const all = (root, sel, out = []) => {
    out.push(...root.querySelectorAll(sel));
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) all(el.shadowRoot, sel, out);
    return out;
  };
  const widget = all(document, "[data-testid=episode-annotator]")[0];
  const rows = () => widget.querySelectorAll("[data-testid^=row-]").length;
  const key = (k) => widget.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
  const times = [];
  for (let i = 0; i < count; i++) {
    key("q"); key("ArrowRight"); key("r");
    await new Promise((r) => setTimeout(r, 150));  // the step's frames arrive: not timed
    const before = rows();
    const start = performance.now();
    await new Promise((resolve, reject) => {
      let seen = "";
      const said = () => seen || widget.querySelector("[data-testid=error]")?.textContent || "";
      const errors = new MutationObserver(() => {
        const text = widget.querySelector("[data-testid=error]")?.textContent;
        if (text) seen = text;
      });
      errors.observe(widget, { childList: true, subtree: true, characterData: true });
      const fail = () => reject(new Error(`no new row 10 s after Enter (${before}): ${said()}`));
      setTimeout(fail, 10000);
      const watch = new MutationObserver(() => {
        if (rows() > before) { watch.disconnect(); errors.disconnect(); resolve(); }
      });
      watch.observe(widget, { childList: true, subtree: true });
      key("Enter");
    });
    times.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 20));
  }
  return times;
}
"""


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=40, help="saves per session")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'workspace.db'}"
        ws = ak.connect(url, user="ada")
        ws.logins.set_password("ada", PASSWORD)
        episode = synthetic.write_mcap(folder / "ep.mcap", duration_s=60, seed=1)
        [dataset] = ws.import_datasets(episode, progress=False).dataset_ids
        tasks = {}
        for i in range(SESSIONS):
            name = f"annotator{i}"
            ws.users.create(name, "annotator")
            ws.logins.set_password(name, PASSWORD)
            task = ws.tasks.create(f"bench {i}", datasets=[dataset], annotators=[name])
            ws.as_user(name).tasks.start(task.id)
            tasks[name] = task.id
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = folder / "serve.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "annotation_kit.cli",
                    "serve",
                    "--url",
                    url,
                    "--port",
                    f"{port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_http(f"{base}/login", server, log=log)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                pages = [open_annotator(browser, base, name, task) for name, task in tasks.items()]
                alone = pages[0].evaluate(SAVES_JS, args.saves)
                report("1 session", alone)
                for page in pages:  # all sessions save at once
                    page.evaluate(f"() => {{ window.__saves = ({SAVES_JS})({args.saves}); }}")
                together: list[float] = []
                for page, (name, task) in zip(pages, tasks.items(), strict=True):
                    try:
                        together += page.evaluate("async () => await window.__saves")
                    except Exception:
                        stored = len(ws.annotations.list_annotations(task))
                        print(f"{name}: {stored} stored")
                        raise
                report(f"{SESSIONS} sessions at once", together)
                browser.close()
        except Exception:
            print(log.read_text()[-3000:])
            raise
        finally:
            stop(server)


def open_annotator(browser, base: str, name: str, task: int):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("[data-testid=login]")
    page.goto(f"{base}/work")
    page.click(f"[data-testid=open-{task}]")
    page.click("[data-testid=open-annotator]")
    page.wait_for_selector("[data-testid=episode-annotator] img", timeout=60_000)
    time.sleep(0.5)
    return page


def report(label: str, times: list[float]) -> None:
    print(
        f"annotation save, Enter -> row in the page ({label}, {len(times)} saves): "
        f"p50 {statistics.median(times):6.1f} ms  p95 {pct(times, 95):6.1f} ms  "
        f"max {max(times):6.1f} ms"
    )


if __name__ == "__main__":
    main()
