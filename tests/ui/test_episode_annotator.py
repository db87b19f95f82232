"""EpisodeAnnotator in a real browser, keyboard and mouse, under ``panel serve`` and in
JupyterLab; every step is read back from the database."""

import pytest

from annotation_kit.data import synthetic
from tests.conftest import make_team
from tests.ui.conftest import app_source, box, run_all_cells, shot, write_notebook

SECOND = 1_000_000_000
XSS = '<img src=x onerror="window.__xss=1">pour <b>slowly</b>'


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    maya = team["maya"]
    for name in ("pick", "place", "pour"):
        maya.skills.create(name)
    maya.dictionaries.create("objects", ["cup", "bowl"])
    files = [
        synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=d, seed=i)
        for i, d in enumerate((6, 9, 12))
    ]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("annotate", datasets=ids, annotators=["ann"], reviewers=["rita"])
    team["ann"].tasks.start(task.id)
    yield url, team, task.id, ids
    team["ada"].close()


def app(task, dataset=0):
    return app_source(
        "EpisodeAnnotatorPanel", f"EpisodeAnnotatorPanel(ws, task={task}, dataset={dataset})"
    )


def segments(team, task, dataset):
    found = team["ada"].annotations.list_annotations(task, dataset=dataset)
    return [a for a in found if a.start_ns is not None]


def wait_count(page, team, task, dataset, n):
    page.wait_for_function("() => true")  # let the browser send what it has
    for _ in range(100):
        if len(segments(team, task, dataset)) == n:
            return segments(team, task, dataset)
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {n} segments, have {len(segments(team, task, dataset))}")


def open_annotator(page, url):
    page.goto(url)
    page.wait_for_selector("[data-testid=episode-annotator] img", timeout=30_000)
    page.focus("[data-testid=episode-annotator]")


def keys(page, *presses):
    for key in presses:
        page.keyboard.press(key)


def wait_time(page, seconds):
    page.wait_for_selector(f"[data-testid=time] >> text={seconds:.3f} /", timeout=10_000)


def test_keyboard_annotation_drag_undo_invalid_template(workspace, panel_app, page):
    url, team, task, (first, second, third) = workspace
    open_annotator(page, panel_app(app(task), url, "ann").url)
    frame_ns = round(1e9 / team["ada"].datasets.get(first).cameras[0]["rate_hz"])
    # first segment: 1 s + 3 frames in, to 3 s + 3 frames, skill 1 (pick) by its number key
    keys(page, "ArrowRight", "ArrowRight", "ArrowRight", "Shift+ArrowRight")
    wait_time(page, (3 * frame_ns + SECOND) / 1e9)
    keys(page, "q", "Shift+ArrowRight", "Shift+ArrowRight", "r", "1")
    page.fill("[data-testid=description]", XSS)
    page.focus("[data-testid=episode-annotator]")
    keys(page, "Enter")
    page.wait_for_selector("[data-testid=notice] >> text=added segment")
    [one] = segments(team, task, first)
    assert (one.start_ns, one.end_ns) == (3 * frame_ns + SECOND, 3 * frame_ns + 3 * SECOND)
    assert team["ada"].skills.get(one.skill_id).name == "pick"
    assert one.description == XSS
    # second segment, skill 2 (place): Q, R, Enter, the playhead moved with Shift+→
    keys(page, "Shift+ArrowRight", "q", "Shift+ArrowRight", "r", "2", "Enter")
    one, two = wait_count(page, team, task, first, 2)
    assert team["ada"].skills.get(two.skill_id).name == "place"
    assert (two.start_ns, two.end_ns) == (one.end_ns + SECOND, one.end_ns + 2 * SECOND)
    assert XSS in page.inner_text("[data-testid=segments]")
    assert page.evaluate("window.__xss") is None

    # drag the end edge of the first segment to the right
    edge = box(page, f"[data-testid=edge-end-{one.id}]")
    timeline = box(page, "[data-testid=timeline]")
    page.mouse.move(edge["x"] + edge["width"] / 2, edge["y"] + edge["height"] / 2)
    page.mouse.down()
    page.mouse.move(edge["x"] + timeline["width"] / 12, edge["y"] + 5, steps=5)
    page.mouse.up()
    page.wait_for_selector("[data-testid=notice] >> text=saved segment")
    dragged = team["ada"].annotations.get(one.id)
    assert dragged.end_ns > one.end_ns and dragged.start_ns == one.start_ns
    # undo puts it back
    page.focus("[data-testid=episode-annotator]")
    keys(page, "Control+z")
    page.wait_for_selector("[data-testid=notice] >> text=undone")
    assert team["ada"].annotations.get(one.id).end_ns == one.end_ns

    # mark the second segment invalid with a reason
    page.click(f"[data-testid=row-{two.id}]")
    page.fill("[data-testid=invalid-reason]", "gripper occluded")
    page.click("[data-testid=invalid-segment]")
    page.wait_for_selector("[data-testid=notice] >> text=marked segment")
    marked = team["ada"].annotations.get(two.id)
    assert (marked.valid, marked.invalid_reason) == (False, "gripper occluded")

    # template: the valid segment goes onto the other episodes, scaled to their durations
    page.click("[data-testid=template]")
    page.wait_for_selector("[data-testid=notice] >> text=onto 2 other episode(s)")
    for dataset in (second, third):
        [copy] = segments(team, task, dataset)
        ratio = (
            team["ada"].datasets.get(dataset).duration_ns
            / team["ada"].datasets.get(first).duration_ns
        )
        assert abs(copy.start_ns - one.start_ns * ratio) <= 1
        assert copy.attributes["template"] == first
    shot(page, "episode_annotator_panel")
    team["ann"].tasks.submit(task)
    assert team["ada"].tasks.get(task).status == "pending_review"


def test_a_segments_skill_labels_and_description_are_edited_in_place(workspace, panel_app, page):
    url, team, task, (first, _second, _third) = workspace
    made = team["ann"].annotations.add(
        task, first, start_ns=SECOND, end_ns=2 * SECOND, skill="pick", description="grab the cup"
    )
    open_annotator(page, panel_app(app(task, first), url, "ann").url)
    page.click(f"[data-testid=row-{made.id}]")  # selecting it puts its values in the form
    assert page.input_value("[data-testid=description]") == "grab the cup"
    assert page.input_value("[data-testid=skill]") == "pick"
    page.wait_for_selector(f"[data-testid=apply-edit] >> text=Apply to #{made.id}")
    page.select_option("[data-testid=labels]", ["bowl"])
    page.fill("[data-testid=description]", "pour into the bowl")
    page.focus("[data-testid=episode-annotator]")
    keys(page, "3", "e")  # skill 3 (pour), then E applies the form to the selected segment
    page.wait_for_selector(f"[data-testid=notice] >> text=saved segment #{made.id}")
    now = team["ada"].annotations.get(made.id)
    assert team["ada"].skills.get(now.skill_id).name == "pour"
    assert (now.labels, now.description) == (["bowl"], "pour into the bowl")
    assert now.version == made.version + 1  # one edit, one new version
    assert (now.start_ns, now.end_ns) == (made.start_ns, made.end_ns)
    page.focus("[data-testid=episode-annotator]")
    keys(page, "Control+z")  # one undo puts every field back
    page.wait_for_selector("[data-testid=notice] >> text=undone")
    back = team["ada"].annotations.get(made.id)
    assert (team["ada"].skills.get(back.skill_id).name, back.labels, back.description) == (
        "pick",
        [],
        "grab the cup",
    )


def test_a_segments_bounds_are_moved_from_the_keyboard(workspace, panel_app, page):
    """Select a segment, Q / R at new places, E: its start and end move (one new version); and
    Enter in the description field adds a segment, as Enter does everywhere."""
    url, team, task, (first, _second, _third) = workspace
    made = team["ann"].annotations.add(task, first, start_ns=SECOND, end_ns=3 * SECOND)
    open_annotator(page, panel_app(app(task, first), url, "ann").url)
    page.click(f"[data-testid=row-{made.id}]")  # the playhead goes to its start, 1 s
    wait_time(page, 1.0)
    page.focus("[data-testid=episode-annotator]")
    keys(page, "Shift+ArrowRight")
    wait_time(page, 2.0)
    keys(page, "q", "Shift+ArrowRight", "Shift+ArrowRight")
    wait_time(page, 4.0)
    keys(page, "r", "e")
    page.wait_for_selector(f"[data-testid=notice] >> text=saved segment #{made.id}")
    now = team["ada"].annotations.get(made.id)
    assert (now.start_ns, now.end_ns, now.version) == (2 * SECOND, 4 * SECOND, made.version + 1)

    page.focus("[data-testid=episode-annotator]")
    keys(page, "Shift+ArrowRight", "q", "Shift+ArrowRight", "r")
    page.fill("[data-testid=description]", "wipe the table")
    page.press("[data-testid=description]", "Enter")
    page.wait_for_selector("[data-testid=notice] >> text=added segment")
    added = [a for a in segments(team, task, first) if a.id != made.id]
    [(start, end, text)] = [(a.start_ns, a.end_ns, a.description) for a in added]
    assert (start, text) == (5 * SECOND, "wipe the table") and end > start  # (the last frame)


def test_signal_plots_have_a_legend_that_picks_their_fields(workspace, panel_app, page):
    url, _team, task, (first, _second, _third) = workspace
    open_annotator(page, panel_app(app(task, first), url, "ann").url)
    legend = page.locator("[data-testid^=legend-]").first
    fields = legend.locator("button")
    count = fields.count()
    assert count >= 2
    row = page.locator(".ak-plot-row").first
    assert f"{count} of {count} fields" in row.inner_text()
    fields.nth(0).click()  # hide the first field: the plot says so and rescales to the rest
    page.wait_for_selector(f".ak-plot-row >> text={count - 1} of {count} fields")
    shot(page, "annotator_signal_legend")
    assert "ak-legend-off" in (fields.nth(0).get_attribute("class") or "")
    fields.nth(0).click()
    page.wait_for_selector(f".ak-plot-row >> text={count} of {count} fields")


def test_second_session_editing_the_same_segment_gets_a_conflict(workspace, panel_app, browser):
    url, team, task, (first, *_rest) = workspace
    made = team["ann"].annotations.add(
        task, first, start_ns=SECOND, end_ns=2 * SECOND, skill="pick"
    )
    server = panel_app(app(task, first), url, "ann")
    pages = [browser.new_page(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    for page in pages:
        open_annotator(page, server.url)
    ends = []
    for page in pages:
        edge = box(page, f"[data-testid=edge-end-{made.id}]")
        page.mouse.move(edge["x"] + 3, edge["y"] + 5)
        page.mouse.down()
        page.mouse.move(edge["x"] + 60 + 30 * len(ends), edge["y"] + 5, steps=4)
        page.mouse.up()
        ends.append(page)
    pages[0].wait_for_selector("[data-testid=notice] >> text=saved segment")
    pages[1].wait_for_selector("[data-testid=error] >> text=changed by someone else")
    stored = team["ada"].annotations.get(made.id)
    assert stored.version == made.version + 1  # the first save only; nothing overwritten
    for page in pages:
        page.close()


def test_annotate_in_jupyterlab(workspace, jupyter_lab, page):
    url, team, task, (first, *_rest) = workspace
    write_notebook(
        jupyter_lab.root / "annotate.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import EpisodeAnnotator",
            f"annotator = EpisodeAnnotator(ak.connect({url!r}, user='ann'), task={task})\n"
            "annotator",
        ],
    )
    page.goto(jupyter_lab.notebook_url("annotate.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=episode-annotator] img", timeout=60_000)
    page.click("[data-testid=time]")
    page.focus("[data-testid=episode-annotator]")
    keys(page, "q", "Shift+ArrowRight", "Shift+ArrowRight")
    wait_time(page, 2.0)
    keys(page, "r", "3", "Enter")
    [made] = wait_count(page, team, task, first, 1)
    assert (made.start_ns, made.end_ns) == (0, 2 * SECOND)
    assert team["ada"].skills.get(made.skill_id).name == "pour"
    assert_frames_drawn(page)  # bytes through the Jupyter widget protocol: real pictures
    shot(page, "episode_annotator_jupyterlab")


def assert_frames_drawn(page) -> None:
    """Every camera's frame on screen is a decoded picture from the frame's bytes (a blob:
    address made of the binary buffer the host sent)."""
    images = page.locator("[data-testid=episode-annotator] img").all()
    assert images
    for image in images:
        image.evaluate("i => i.decode()")  # fails on bytes that are not a picture
        drawn = image.evaluate("i => [i.src.slice(0, 5), i.naturalWidth > 0]")
        assert drawn == ["blob:", True]


def test_forged_requests_are_refused_and_undo_restores_a_deletion(workspace):
    import annotation_kit as ak
    from annotation_kit.widgets import EpisodeAnnotator

    url, team, task, (first, *_rest) = workspace
    rita = EpisodeAnnotator(ak.connect(url, user="rita"), task=task, dataset=first)
    assert rita.can_edit is False and len(rita.frames) == 2 and rita.windows
    rita._request = {"id": 1, "action": "add", "start_ns": 0, "end_ns": SECOND}
    assert "may not change annotations" in rita._error
    assert segments(team, task, first) == []

    ann = EpisodeAnnotator(ak.connect(url, user="ann"), task=task, dataset=first)
    ann._request = {"id": 1, "action": "add", "start_ns": 0, "end_ns": SECOND, "skill": "pick"}
    [made] = segments(team, task, first)
    ann._request = {"id": 2, "action": "delete", "version": made.version}
    assert "annotation" in ann._error  # a request must name the segment
    ann._request = {"id": 3, "action": "delete", "annotation": made.id, "version": made.version}
    assert segments(team, task, first) == []
    ann._request = {"id": 4, "action": "undo"}
    [back] = segments(team, task, first)
    assert (back.start_ns, back.end_ns) == (0, SECOND)
    ann.playhead = 2 * SECOND  # moving the playhead sends new frames, not new signal windows
    assert all(f["t_ns"] > SECOND for f in ann.frames.values())


def test_space_plays_and_pauses(workspace, panel_app, page):
    url, _team, task, (first, *_rest) = workspace
    open_annotator(page, panel_app(app(task, first), url, "ann").url)
    shown = "[data-testid=time]"
    assert page.inner_text(shown).startswith("0.000 /")
    keys(page, " ")
    page.wait_for_selector("[data-testid=play] >> text=❚❚")
    page.wait_for_function(
        """() => {
          const all = (root, out = []) => {
            out.push(...root.querySelectorAll("[data-testid=time]"));
            for (const el of root.querySelectorAll("*")) if (el.shadowRoot) all(el.shadowRoot, out);
            return out;
          };
          return parseFloat(all(document)[0].textContent) >= 0.5;
        }""",
        timeout=10_000,
    )
    page.focus("[data-testid=episode-annotator]")
    keys(page, " ")
    page.wait_for_selector("[data-testid=play] >> text=▶")
    paused = page.inner_text(shown)
    page.wait_for_timeout(500)
    assert page.inner_text(shown) == paused  # stopped
    # every frame on screen is the one for the playhead it stopped at
    at = {img.get_attribute("data-at") for img in page.locator("img").all()}
    seconds = float(paused.split(" /")[0])
    assert len(at) == 1 and abs(int(at.pop()) / 1e9 - seconds) < 0.001
    assert_frames_drawn(page)  # frames sent ahead (bytes over Bokeh's websocket) as pictures


def test_the_project_s_skills_labels_and_guideline_beside_the_timeline(workspace, panel_app, page):
    """An annotator is offered only the project's skills (in hot-key order) and labels, and reads
    its guidelines beside the timeline: rendered, with no script run, and an example link that
    opens the other episode at its time."""
    url, team, task, (first, second, _third) = workspace
    maya = team["maya"]
    maya.projects.create("kitchen", members=["ann"])
    maya.tasks.edit(task, project="kitchen")
    maya.dictionaries.create("colours", ["red"])
    maya.skills.use_in_project("kitchen", ["pour", "pick"])
    maya.skills.reorder(["pour", "pick"])
    maya.dictionaries.use_in_project("kitchen", ["objects"])
    maya.guidelines.write(
        f"## Kitchen\nPour **slowly**. {XSS}\n\n[an example](#episode={second}&at=4-6)",
        project="kitchen",
    )
    team["rita"].guidelines.write("Pick: close, then lift.", skill="pick")
    open_annotator(page, panel_app(app(task, first), url, "ann").url)
    options = page.locator("[data-testid=skill] option").all_inner_texts()
    assert options == ["(no skill)", "1. pour", "2. pick"]
    assert page.locator("[data-testid=labels] option").all_inner_texts() == ["bowl", "cup"]
    guide = page.locator("[data-testid=guidelines]")
    assert guide.is_visible()
    assert guide.locator("summary").all_inner_texts() == ["Project kitchen · v1", "Skill pick · v1"]
    assert guide.locator("strong").first.inner_text() == "slowly"
    assert guide.locator("img").count() == 0 and page.evaluate("window.__xss") is None
    left, right = box(page, "[data-testid=timeline]"), box(page, "[data-testid=guidelines]")
    assert right["x"] >= left["x"] + left["width"]  # beside the timeline
    shot(page, "annotator_guidelines")
    guide.locator("a", has_text="an example").click()
    wait_time(page, 4.0)
    page.focus("[data-testid=episode-annotator]")
    keys(page, "q", "Shift+ArrowRight", "r", "1", "Enter")
    [made] = wait_count(page, team, task, second, 1)
    assert (made.start_ns, made.end_ns, team["ada"].skills.get(made.skill_id).name) == (
        4 * SECOND,
        5 * SECOND,
        "pour",
    )
