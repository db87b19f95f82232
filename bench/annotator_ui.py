"""EpisodeAnnotator in Chromium on a 1-hour, 3-camera, 100 Hz episode: bytes before first paint
and frame stepping.

Serves ``EpisodeAnnotatorPanel`` with ``panel serve`` and measures in Debian's Chromium:
- bytes received before first paint (the first camera frame on screen), split into Panel's
  static files (JavaScript/CSS, cached by the browser after the first visit) and the widget's
  own data over the websocket (state, signal windows, frames);
- frame step: → pressed until the new time and every shown camera's frame for it are in the
  page, timed in the page. Frames near the playhead are sent ahead, so a step usually needs no
  round trip; the script also times steps that miss (a jump to an unvisited time).
Goals from the issue: ≤ 2 MB before first paint; frame step p95 ≤ 50 ms.
Run: ``python bench/annotator_ui.py [--minutes 60]`` (the episode is written once to bench/out).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

import annotation_kit as ak

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.frontends
sys.path.insert(0, str(Path(__file__).parent))
from data import hour_episode

from tests.frontends import PanelServer, launch_chromium

APP = """
import os
import panel as pn
import annotation_kit as ak
from annotation_kit.widgets import EpisodeAnnotatorPanel

pn.extension()
ws = pn.state.as_cached("workspace", ak.connect, url=os.environ["ANNOTATION_KIT_URL"], user="ada")
EpisodeAnnotatorPanel(ws, task=int(os.environ["TASK"])).servable()
"""
# One move in the annotator (inside Panel's shadow DOM), timed in the page until the new time
# and its frames are drawn: the wait a person sees. ``fraction`` null presses →; a number clicks
# the overview strip there (a jump to a time not visited yet: nothing was sent ahead).
MOVE_JS = """
async (fraction) => {
  const all = (root, sel, out = []) => {
    out.push(...root.querySelectorAll(sel));
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) all(el.shadowRoot, sel, out);
    return out;
  };
  const widget = all(document, "[data-testid=episode-annotator]")[0];
  // done when the new time shows and every camera shows the frame chosen for it (each <img>
  // says which playhead time its frame is for: a frame sent ahead, or Python's answer)
  const shown = () => widget.querySelector("[data-testid=time]").textContent;
  const images = () => [...widget.querySelectorAll("img")].map((img) => img.dataset.at);
  const before = shown();
  const was = images()[0];
  const start = performance.now();
  await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`no redraw 5 s after the move: still ${before}`)), 5000);
    const watch = new MutationObserver(() => {
      const now = images();
      if (shown() !== before && now.length === 3 && now.every((t) => t === now[0] && t !== was)) {
        watch.disconnect();
        resolve();
      }
    });
    watch.observe(widget, { childList: true, subtree: true, attributes: true });
    if (fraction === null) {
      widget.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    } else {
      const strip = widget.querySelector("[data-testid=overview]");
      const rect = strip.getBoundingClientRect();
      const x = rect.left + fraction * rect.width;
      strip.dispatchEvent(new MouseEvent("click", { clientX: x, bubbles: true }));
    }
  });
  return performance.now() - start;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--port", type=int, default=5871)
    args = parser.parse_args()
    path = hour_episode(args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ws.db"
        ws = ak.connect(url, user="ada")
        [dataset] = ws.import_datasets(path, progress=False).dataset_ids
        task = ws.tasks.create("bench", datasets=[dataset], annotators=["ada"])
        ws.tasks.start(task.id)
        env = {"ANNOTATION_KIT_URL": url, "TASK": str(task.id)}
        with PanelServer(APP, Path(tmp), env, name="annotate", port=args.port) as server:
            measure(server.url, args.minutes)


def measure(page_url: str, minutes: int) -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        received = {"http": 0, "websocket": 0}
        cdp.on(
            "Network.loadingFinished",
            lambda e: received.__setitem__("http", received["http"] + e["encodedDataLength"]),
        )
        cdp.on(
            "Network.webSocketFrameReceived",
            lambda e: received.__setitem__(
                "websocket", received["websocket"] + len(e["response"]["payloadData"])
            ),
        )
        start = time.perf_counter()
        page.goto(page_url)
        page.wait_for_selector("[data-testid=episode-annotator] img", timeout=120_000)
        first_paint = time.perf_counter() - start
        before = dict(received)
        steps = [page.evaluate(MOVE_JS, None) for _ in range(60)]
        jumps = [page.evaluate(MOVE_JS, 0.1 + 0.8 * i / 20) for i in range(20)]
        browser.close()
    mb = 1e6
    print(f"{minutes}-minute episode, 3 cameras, 2 signals shown")
    print(
        f"first paint {first_paint:5.2f} s; bytes before it: widget data "
        f"{before['websocket'] / mb:5.2f} MB (goal <= 2 MB), plus Panel's static files "
        f"{before['http'] / mb:5.2f} MB "
        "(cached after the first visit)"
    )
    steps.sort()
    p95 = steps[int(0.95 * len(steps)) - 1]
    print(
        f"frame step (→ until all 3 new frames are in the page): p50 "
        f"{statistics.median(steps):5.1f} ms  p95 {p95:5.1f} ms   (goal p95 <= 50 ms)"
    )
    jumps.sort()
    print(
        f"jump to an unvisited time (overview click, nothing sent ahead): p50 "
        f"{statistics.median(jumps):5.1f} ms  max {jumps[-1]:5.1f} ms"
    )


if __name__ == "__main__":
    main()
