"""ReviewForm and the review round trip in a real browser: the reviewer samples 50 %, rejects a
segment with a time-anchored comment and fails the task; the annotator sees the comment at its
place on the timeline, fixes the segment and resubmits; the reviewer sees the change and passes.
Under ``panel serve`` and in JupyterLab; every step is read back from the database."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import annotation_kit as ak
from annotation_kit.data import synthetic
from tests.conftest import make_team
from tests.ui.conftest import (
    app_source,
    box,
    press_across_a_redraw,
    run_all_cells,
    shot,
    write_notebook,
)

SECOND = 1_000_000_000
XSS = '<img src=x onerror="window.__xss=1">starts <b>late</b>'


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    maya = team["maya"]
    for name in ("pick", "place"):
        maya.skills.create(name)
    files = [
        synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=d, seed=i)
        for i, d in enumerate((8, 10))
    ]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("review me", datasets=ids, annotators=["ann"], reviewers=["rita"])
    ann = team["ann"]
    ann.tasks.start(task.id)
    for d in ids:
        ann.annotations.add(task.id, d, start_ns=SECOND, end_ns=3 * SECOND, skill="pick")
        ann.annotations.add(task.id, d, start_ns=4 * SECOND, end_ns=6 * SECOND, skill="place")
    ann.tasks.submit(task.id)
    yield url, team, task.id, ids
    team["ada"].close()


def review_app(task):
    return app_source("ReviewFormPanel", f"ReviewFormPanel(ws, task={task})")


def annotator_app(task, dataset):
    return app_source(
        "EpisodeAnnotatorPanel", f"EpisodeAnnotatorPanel(ws, task={task}, dataset={dataset})"
    )


def wait_for(check, page, what):
    for _ in range(100):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")


def judged(page, annotation: int, decision: str, act) -> None:
    """Act once and wait for the verdict; what the form said is in the failure."""
    act()
    try:
        page.wait_for_selector(f"[data-testid=verdict-{annotation}] >> text={decision}")
    except PlaywrightTimeout:
        said = page.locator("[data-testid=error]").all_inner_texts()
        raise AssertionError(
            f"no {decision} verdict on #{annotation}; the form said {said}"
        ) from None


def test_review_round_trip_under_panel(workspace, panel_app, page):
    url, team, task, _ids = workspace
    ada = team["ada"]
    reviewer = panel_app(review_app(task), url, "rita")
    page.goto(reviewer.url)
    page.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet")
    # sample 50 % of the datasets at random
    page.select_option("[data-testid=sample-mode]", "percent")
    page.fill("[data-testid=sample-size]", "50")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=sample] >> text=Reviewing 1 of 2 dataset(s)")
    [sampled] = ada.reviews.current_sample(task).datasets
    first, second = (a for a in ada.annotations.list_annotations(task, dataset=sampled))
    page.wait_for_selector("[data-testid=review-form] img", timeout=30_000)
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{first.id}")

    # pass the first with the A key: the form moves on to the second
    page.focus("[data-testid=review-form]")
    page.keyboard.press("a")
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{second.id}")
    # anchor a comment 0.5 s into the second segment, for 1 s, and reject it
    page.wait_for_selector("[data-testid=time] >> text=4.000 /")
    page.focus("[data-testid=review-form]")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    t0 = ada.datasets.get(sampled).cameras[0]["rate_hz"]
    frame_ns = round(1e9 / t0)
    page.keyboard.press("q")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("r")
    page.fill("[data-testid=verdict-comment]", XSS)
    judged(page, second.id, "reject", lambda: page.click("[data-testid=reject-annotation]"))
    verdicts = {v.annotation_id: v for v in ada.reviews.verdicts(task, round=1)}
    assert str(verdicts[first.id].decision) == "pass"
    rejected = verdicts[second.id]
    anchor = (4 * SECOND + 5 * frame_ns, 5 * SECOND + 5 * frame_ns)
    assert (str(rejected.decision), rejected.comment) == ("reject", XSS)
    assert (rejected.range_start_ns, rejected.range_end_ns) == anchor
    assert "judged 2 of 2" in page.inner_text("[data-testid=review-progress]")
    shot(page, "review_form_panel")
    # passing the task now is refused by the library; failing needs a comment
    page.click("[data-testid=pass-task]")
    page.wait_for_selector("[data-testid=error] >> text=rejected in this review round")
    page.click("[data-testid=fail-task]")
    page.wait_for_selector("[data-testid=error] >> text=comment")
    page.fill("[data-testid=task-comment]", "the place segment starts too early")
    page.click("[data-testid=fail-task]")
    page.wait_for_selector("[data-testid=notice] >> text=task failed")
    after = ada.tasks.get(task)
    assert (str(after.status), after.review_round) == ("in_progress", 2)
    assert page.evaluate("window.__xss") is None
    page.wait_for_selector("[data-testid=sample] >> text=Nothing to review: the task is in")

    # the annotator sees the comment at its place on the timeline, and as text
    annotator = panel_app(annotator_app(task, sampled), url, "ann")
    page.goto(annotator.url)
    page.wait_for_selector("[data-testid=episode-annotator] img", timeout=30_000)
    comments = page.inner_text("[data-testid=comments]")
    assert XSS in comments and f"@ {anchor[0] / 1e9:.3f}–{anchor[1] / 1e9:.3f} s" in comments
    assert page.evaluate("window.__xss") is None
    mark = box(page, "[data-testid=comment-mark]", first=True)
    bar = box(page, "[data-testid=timeline]")
    view = ada.datasets.get(sampled).duration_ns  # the whole episode is in view
    assert abs((mark["x"] - bar["x"]) / bar["width"] - anchor[0] / view) < 0.01
    assert abs(mark["width"] / bar["width"] - (anchor[1] - anchor[0]) / view) < 0.01
    # fix: drag the start edge of the rejected segment to the right, then resubmit
    edge = box(page, f"[data-testid=edge-start-{second.id}]")
    page.mouse.move(edge["x"] + 3, edge["y"] + 5)
    page.mouse.down()
    page.mouse.move(edge["x"] + bar["width"] / 16, edge["y"] + 5, steps=5)
    page.mouse.up()
    page.wait_for_selector("[data-testid=notice] >> text=saved segment")
    fixed = ada.annotations.get(second.id)
    assert fixed.start_ns > second.start_ns and fixed.end_ns == second.end_ns
    team["ann"].tasks.submit(task)

    # the reviewer sees what changed, then passes it and the task
    page.goto(reviewer.url)
    page.wait_for_selector("[data-testid=round] >> text=round 2")
    page.select_option("[data-testid=sample-mode]", "full")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=sample] >> text=Reviewing 2 of 2 dataset(s)")
    if page.input_value("[data-testid=episode]") != str(sampled):
        page.select_option("[data-testid=episode]", str(sampled))
    change = page.locator(f"[data-testid=change-{second.id}]")
    change.wait_for()
    text = f"changed since the last round: start 4.000 s → {fixed.start_ns / 1e9:.3f} s"
    assert change.inner_text() == text
    assert page.inner_text(f"[data-testid=change-{first.id}]") == ""
    assert "1 changed since the last round" in page.inner_text("[data-testid=review-progress]")
    page.click(f"[data-testid=row-{second.id}]")
    page.focus("[data-testid=review-form]")
    page.keyboard.press("a")
    page.wait_for_selector(f"[data-testid=verdict-{second.id}] >> text=pass")
    page.fill("[data-testid=task-comment]", "fixed, thanks")
    page.click("[data-testid=pass-task]")
    page.wait_for_selector("[data-testid=notice] >> text=task passed")
    assert str(ada.tasks.get(task).status) == "review_passed"
    [again] = [v for v in ada.reviews.verdicts(task, round=2) if v.annotation_id == second.id]
    assert (str(again.decision), again.annotation_version) == ("pass", fixed.version)
    page.wait_for_selector("[data-testid=status] >> text=review passed")
    assert page.locator("[data-testid=pass-task]").count() == 0  # nothing left to decide


def test_a_button_held_down_while_the_form_redraws_still_clicks(workspace, panel_app, page):
    """Answers redraw the form at any moment (frames sent ahead, news, a refresh): a button
    pressed before one and released after it still acts — a redrawn button would lose it."""
    url, team, task, _ids = workspace
    reviewer = panel_app(review_app(task), url, "rita")
    page.goto(reviewer.url)
    page.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet")
    page.select_option("[data-testid=sample-mode]", "full")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=judging] >> text=Annotation #")
    page.fill("[data-testid=verdict-comment]", "too early")
    first = page.inner_text("[data-testid=judging]").split("#")[1].split(" ")[0]
    press_across_a_redraw(page, "[data-testid=reject-annotation]", "[data-testid=episode]")
    page.wait_for_selector(f"[data-testid=verdict-{first}] >> text=reject: too early")
    [verdict] = team["ada"].reviews.verdicts(task, round=1)
    assert (verdict.annotation_id, str(verdict.decision)) == (int(first), "reject")
    # the task's buttons too
    page.fill("[data-testid=task-comment]", "start again")
    press_across_a_redraw(page, "[data-testid=fail-task]", "[data-testid=episode]")
    page.wait_for_selector("[data-testid=notice] >> text=task failed")
    assert str(team["ada"].tasks.get(task).status) == "in_progress"


def test_review_in_jupyterlab(workspace, jupyter_lab, page):
    url, team, task, _ids = workspace
    write_notebook(
        jupyter_lab.root / "review.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import ReviewForm",
            f"form = ReviewForm(ak.connect({url!r}, user='rita'), task={task})\nform",
        ],
    )
    page.goto(jupyter_lab.notebook_url("review.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet", timeout=60_000)
    page.select_option("[data-testid=sample-mode]", "count")
    page.fill("[data-testid=sample-size]", "1")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=sample] >> text=Reviewing 1 of 2 dataset(s)")
    page.wait_for_selector("[data-testid=review-form] img", timeout=30_000)
    page.focus("[data-testid=review-form]")
    page.keyboard.press("a")
    page.wait_for_selector("[data-testid=review-progress] >> text=judged 1 of 2")
    page.focus("[data-testid=review-form]")
    page.keyboard.press("a")
    page.wait_for_selector("[data-testid=review-progress] >> text=judged 2 of 2")
    page.locator("[data-testid=review-form]").evaluate("el => el.scrollIntoView()")
    shot(page, "review_form_jupyterlab")
    page.click("[data-testid=pass-task]")
    page.wait_for_selector("[data-testid=notice] >> text=task passed")
    assert str(team["ada"].tasks.get(task).status) == "review_passed"
    assert {str(v.decision) for v in team["ada"].reviews.verdicts(task)} == {"pass"}


def test_forged_review_requests_are_refused(workspace):
    from annotation_kit.widgets import ReviewForm

    url, team, task, _ids = workspace
    ann = ReviewForm(ak.connect(url, user="ann"), task=task)
    assert (ann.can_review, ann.dataset) == (False, 0)
    ann._request = {"id": 1, "action": "sample", "mode": "full"}
    assert "ann may not choose a review sample" in ann._error
    ann._request = {"id": 2, "action": "pass_task", "version": ann.task_version}
    assert "ann" in ann._error and str(team["ada"].tasks.get(task).status) == "pending_review"
    ann._request = {"id": 3, "action": "add", "start_ns": 0, "end_ns": SECOND}
    assert "unknown request 'add'" in ann._error

    rita = ReviewForm(ak.connect(url, user="rita"), task=task)
    rita._request = {"id": 1, "action": "sample", "mode": "count", "size": 1.5}
    assert "whole number" in rita._error
    rita._request = {"id": 2, "action": "sample", "mode": "count", "size": 1}
    [sampled] = team["ada"].reviews.current_sample(task).datasets
    assert rita.dataset == sampled and len(rita.segments) == 2 and rita.frames
    first, seen = rita.segments[0]["id"], rita.segments[0]["version"]
    rita._request = {"id": 3, "action": "judge", "annotation": first, "decision": "reject"}
    assert "needs a whole number 'version'" in rita._error
    judge = {"action": "judge", "annotation": first, "version": seen}
    rita._request = {"id": 4, **judge, "decision": "reject"}
    assert "comment" in rita._error
    rita._request = {"id": 5, **judge, "decision": "maybe"}
    assert "'pass' or 'reject'" in rita._error
    rita._request = {"id": 6, **judge, "version": seen + 1, "decision": "pass"}  # stale view
    assert f"you saw version {seen + 1}, it is now version {seen}" in rita._error
    rita._request = {"id": 7, "action": "pass_task", "version": rita.task_version - 1}
    assert "you have version" in rita._error
    rita._request = {
        "id": 8,
        "action": "judge",
        "version": seen,
        "annotation": first,
        "decision": "reject",
        "comment": "no",
        "start_ns": 0,
        "end_ns": 999 * SECOND,
    }
    assert "end" in rita._error  # the anchor must lie inside the episode
    assert team["ada"].reviews.verdicts(task) == []


def test_a_reviewer_cites_a_guideline_in_a_comment(workspace, panel_app, page):
    url, team, task, _ids = workspace
    team["maya"].guidelines.write("Place: open the gripper **above** the bowl.", skill="place")
    reviewer = panel_app(review_app(task), url, "rita")
    page.goto(reviewer.url)
    page.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet")
    page.select_option("[data-testid=sample-mode]", "percent")
    page.fill("[data-testid=sample-size]", "50")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=sample] >> text=Reviewing 1 of 2 dataset(s)")
    [sampled] = team["ada"].reviews.current_sample(task).datasets
    first, _second = team["ada"].annotations.list_annotations(task, dataset=sampled)
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{first.id}")
    page.fill("[data-testid=verdict-comment]", "too early, see")
    page.select_option("[data-testid=cite-guideline]", "[guideline place v1]")
    assert (
        page.input_value("[data-testid=verdict-comment]") == "too early, see [guideline place v1]"
    )
    judged(page, first.id, "reject", lambda: page.click("[data-testid=reject-annotation]"))
    [verdict] = [
        v for v in team["ada"].reviews.verdicts(task, round=1) if v.annotation_id == first.id
    ]
    assert verdict.comment == "too early, see [guideline place v1]"


@pytest.mark.parametrize("pace_ms", [0, 350], ids=["as-fast-as-keys-go", "human-pace"])
def test_the_keyboard_review_walks_every_episode_and_loses_no_rejection(
    workspace, panel_app, page, pace_ms
):
    """A full review by keys alone, fast and at human pace: A passes and moves on (across to the
    next episode after the last one here), a comment typed and left keeps its text when the
    selection moves, Esc leaves the comment box so Q / R / X act, Ctrl+Enter rejects from it."""
    url, team, task, ids = workspace
    ada = team["ada"]
    reviewer = panel_app(review_app(task), url, "rita")
    page.goto(reviewer.url)
    page.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet")
    page.select_option("[data-testid=sample-mode]", "full")
    page.click("[data-testid=draw-sample]")
    page.wait_for_selector("[data-testid=sample] >> text=Reviewing 2 of 2 dataset(s)")
    first_episode = int(page.input_value("[data-testid=episode]"))
    other = next(d for d in ids if d != first_episode)
    a1, a2 = ada.annotations.list_annotations(task, dataset=first_episode)
    b1, b2 = ada.annotations.list_annotations(task, dataset=other)
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{a1.id}")

    def keys(*names):
        for name in names:
            page.keyboard.press(name)
            if pace_ms:
                page.wait_for_timeout(pace_ms)

    page.focus("[data-testid=review-form]")
    keys("a")  # pass a1: on to a2
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{a2.id}")
    # a comment typed for a2, then a look at a1: the text waits with a2
    page.click("[data-testid=verdict-comment]")
    page.keyboard.type("starts too early", delay=pace_ms / 10)
    page.click(f"[data-testid=row-{a1.id}]")
    assert page.input_value("[data-testid=verdict-comment]") == ""
    page.click(f"[data-testid=row-{a2.id}]")
    assert page.input_value("[data-testid=verdict-comment]") == "starts too early"
    page.click("[data-testid=verdict-comment]")
    keys("Escape", "q", "Shift+ArrowRight", "r", "x")  # keys act again: anchored rejection
    # the last annotation here judged: the form moves on to the next episode's first
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{b1.id}", timeout=15_000)
    page.focus("[data-testid=review-form]")
    keys("a")
    page.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{b2.id}")
    page.click("[data-testid=verdict-comment]")
    page.keyboard.type("no place here")
    keys("Control+Enter")  # reject from the comment box
    page.wait_for_selector("[data-testid=review-progress] >> text=judged 4 of 4")
    verdicts = {v.annotation_id: v for v in ada.reviews.verdicts(task, round=1)}
    got = {i: (str(v.decision), v.comment) for i, v in verdicts.items()}
    assert got == {
        a1.id: ("pass", ""),
        a2.id: ("reject", "starts too early"),
        b1.id: ("pass", ""),
        b2.id: ("reject", "no place here"),
    }
    rejected = verdicts[a2.id]
    assert rejected.range_start_ns is not None and rejected.range_end_ns > rejected.range_start_ns
    assert "2 rejected" in page.inner_text("[data-testid=review-progress]")
