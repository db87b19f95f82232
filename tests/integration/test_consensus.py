"""Independent annotation, consensus and gold episodes, on SQLite and PostgreSQL.

Two annotators annotate the same episodes with boundaries offset by known amounts; the test
works out the expected agreement itself, checks that neither sees the other's segments, that a
reviewer's consensus is what an export carries (read back with the JSON file), that a task
passes only once each independent episode has its consensus, and that annotators are measured
against a gold episode they never saw."""

import json

import pytest

from annotation_kit.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from tests.conftest import SECOND


def _two_annotator_task(team, n=2, overlap=1.0, **more):
    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    for name in ("reach", "grasp"):
        maya.skills.create(name)
    episodes = team.new_datasets_now(n)
    task = maya.tasks.create(
        "twice",
        datasets=episodes,
        annotators=["ann", "ann2"],
        reviewers=["rita"],
        overlap=overlap,
        **more,
    ).id
    ann.tasks.start(task)
    return maya, ann, ann2, task, episodes


def test_annotators_of_an_independent_episode_see_and_change_only_their_own(team):
    maya, ann, ann2, task, [one, two] = _two_annotator_task(team)
    assert maya.consensus.independent(task) == [one, two]
    mine = ann.annotations.add(task, one, start_ns=0, end_ns=2 * SECOND, skill="reach")
    ann2.annotations.add(task, one, start_ns=SECOND // 10, end_ns=2 * SECOND, skill="reach")
    seen = ann.annotations.list_annotations(task, dataset=one, author=team_id(ann))
    assert [a.id for a in seen] == [mine.id]
    with pytest.raises(PermissionDenied, match="another annotator's work"):
        ann2.annotations.update(mine.id, expected_version=mine.version, end_ns=3 * SECOND)
    assert len(maya.annotations.list_annotations(task, dataset=one)) == 2  # the manager sees both
    # the submit waits for both annotators on both episodes
    ann.annotations.add(task, two, start_ns=0, end_ns=SECOND, skill="reach")
    with pytest.raises(InvalidTransition, match=rf"not done yet: #{two} by ann2$"):
        ann.tasks.submit(task)


def team_id(ws):
    with ws.transaction(write=False) as s:
        return ws.me(s).id


def test_the_reviewer_sees_the_disagreement_and_the_consensus_is_what_exports_carry(team, tmp_path):
    maya, ann, ann2, task, [one, two] = _two_annotator_task(team)
    rita = team["rita"]
    # ann: reach 0–2 s, grasp 3–5 s; ann2: reach 0.2–2 s, grasp 3–4 s (expected by hand below)
    a1 = ann.annotations.add(task, one, start_ns=0, end_ns=2 * SECOND, skill="reach")
    a2 = ann.annotations.add(task, one, start_ns=3 * SECOND, end_ns=5 * SECOND, skill="grasp")
    b1 = ann2.annotations.add(task, one, start_ns=SECOND // 5, end_ns=2 * SECOND, skill="reach")
    b2 = ann2.annotations.add(task, one, start_ns=3 * SECOND, end_ns=4 * SECOND, skill="grasp")
    for who in (ann, ann2):
        who.annotations.add(task, two, start_ns=0, end_ns=SECOND, skill="reach")
    ann.tasks.submit(task)

    with pytest.raises(PermissionDenied):
        ann.consensus.disagreement(task, one)
    view = rita.consensus.disagreement(task, one)
    assert [lane.author for lane in view.lanes] == ["ann", "ann2"]
    assert [[a.id for a in lane.segments] for lane in view.lanes] == [
        [a1.id, a2.id],
        [b1.id, b2.id],
    ]
    [(first, second, got)] = view.pairs
    assert (first, second) == ("ann", "ann2")
    assert got.mean_tiou == pytest.approx((1.8 / 2 + 1 / 2) / 2)  # 0.9 and 0.5
    assert got.boundary_f1[0.1] == pytest.approx(2 * 2 / 8)  # 2 s and 3 s ends agree exactly
    assert got.boundary_f1[0.5] == pytest.approx(2 * 3 / 8)  # and 0 s / 0.2 s
    assert view.consensus == []

    with pytest.raises(InvalidTransition, match=rf"pick the consensus .* #{one}, #{two}"):
        rita.tasks.approve(task)
    with pytest.raises(ValidationError, match="overlap"):
        rita.consensus.adopt(task, one, annotations=[a1.id, b1.id])
    picked = rita.consensus.adopt(task, one, annotations=[b1.id, a2.id])  # a merge of both lanes
    assert [(c.start_ns, c.end_ns, c.consensus) for c in picked] == [
        (SECOND // 5, 2 * SECOND, True),
        (3 * SECOND, 5 * SECOND, True),
    ]
    rita.consensus.adopt(task, two, author="ann2")
    with pytest.raises(PermissionDenied, match="consensus"):
        maya.annotations.delete(picked[0].id, expected_version=picked[0].version)
    assert rita.tasks.approve(task).status == "review_passed"

    out = tmp_path / "json"
    maya.export([task], "json", out)
    exported = json.loads((out / "annotations.json").read_text())["annotations"]
    assert sorted((r["dataset"], r["start_ns"], r["author"]) for r in exported) == [
        (one, SECOND // 5, "ann2"),
        (one, 3 * SECOND, "ann"),
        (two, 0, "ann2"),
    ]
    assert {r["annotation"] for r in exported} >= {c.id for c in picked}
    # agreement through DuckDB reads the same lanes, and leaves the consensus out
    frame = maya.analytics.agreement(task)
    row = frame[frame.dataset == one].iloc[0]
    assert row.mean_tiou == pytest.approx(0.7)
    assert set(frame.dataset) == {one, two}


def test_an_export_leaves_out_an_independent_episode_without_consensus(team, tmp_path):
    maya, ann, ann2, task, [one] = _two_annotator_task(team, n=1)
    for who in (ann, ann2):
        who.annotations.add(task, one, start_ns=0, end_ns=SECOND, skill="reach")
    found = maya.export([task], "json", tmp_path / "out", any_status=True)
    assert any("without a consensus" in line for line in found.cleaned)
    assert json.loads((tmp_path / "out" / "annotations.json").read_text())["annotations"] == []


def test_a_share_of_the_datasets_is_drawn_and_bad_shares_are_refused(team):
    maya = team["maya"]
    episodes = team.new_datasets_now(10)
    task = maya.tasks.create("some", datasets=episodes, annotators=["ann", "ann2"], overlap=0.3)
    chosen = maya.consensus.independent(task.id)
    assert len(chosen) == 3 and set(chosen) <= set(episodes)
    again = maya.consensus.set_independent(task.id, share=0.3, seed=task.id)
    assert again == chosen  # the draw is repeatable
    for bad in (1.5, -0.1, "half", True):
        with pytest.raises(ValidationError, match="share"):
            maya.consensus.set_independent(task.id, share=bad)
    with pytest.raises(ValidationError, match="not part of task"):
        maya.consensus.set_independent(task.id, datasets=[10**6])
    with pytest.raises(PermissionDenied):
        team["ann"].consensus.set_independent(task.id, share=0.5)
    assert maya.consensus.set_independent(task.id, datasets=[]) == []
    assert maya.consensus.independent(task.id) == []


def test_annotators_are_measured_against_a_gold_episode_they_never_saw(team):
    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    maya.skills.create("reach")
    maya.projects.create("gold")
    with maya.transaction() as s:
        from annotation_kit.data import datasets

        episode = datasets.register(
            s,
            name="gold",
            source_uri="test://gold.mcap",
            format="mcap",
            duration_ns=60 * SECOND,
            project="gold",
            by=maya.me(s),
        ).id
    reference = maya.tasks.create("reference", datasets=[episode], project="gold").id
    maya.tasks.start(reference)
    maya.annotations.add(reference, episode, start_ns=0, end_ns=4 * SECOND, skill="reach")
    with pytest.raises(NotFound):  # not her task: she does not even see it
        ann.gold.mark(reference, episode)
    maya.gold.mark(reference, episode)
    assert [g.dataset_id for g in maya.gold.list_gold()] == [episode]

    work = maya.tasks.create(
        "work", datasets=team.new_datasets_now(1), annotators=["ann", "ann2"], project="gold"
    ).id
    assert maya.gold.mix(work, count=1) == [episode]
    with pytest.raises(ValidationError, match="can take 0 more"):
        maya.gold.mix(work, count=1)
    ann.tasks.start(work)
    assert ann.annotations.list_annotations(work, dataset=episode) == []  # the reference is unseen
    ann.annotations.add(work, episode, start_ns=0, end_ns=2 * SECOND, skill="reach")  # tIoU 0.5
    ann2.annotations.add(work, episode, start_ns=SECOND, end_ns=4 * SECOND, skill="reach")  # 0.75
    frame = maya.analytics.gold().set_index("annotator")
    assert frame.loc["ann", "episodes"] == 1
    assert frame.loc["ann", "mean_tiou"] == pytest.approx(0.5)
    assert frame.loc["ann2", "mean_tiou"] == pytest.approx(0.75)
    assert frame.loc["ann2", "boundary_f1_0.1s"] == pytest.approx(0.5)  # the 4 s ends agree
    with pytest.raises(PermissionDenied):
        ann.analytics.gold()


def test_the_widgets_show_each_annotator_their_own_lane_and_the_reviewer_all_of_them(team):
    from annotation_kit.widgets import episode_annotator, review_form
    from tests.integration.test_controllers import Host

    _maya, ann, ann2, task, [one] = _two_annotator_task(team, n=1)
    ann_view = Host(episode_annotator.SPEC, ann, set(), task=task, dataset=one)
    ann_view.ok("add", start_ns=0, end_ns=2 * SECOND, skill="reach")
    theirs = ann2.annotations.add(task, one, start_ns=SECOND, end_ns=2 * SECOND, skill="grasp")
    ann_view.send("refresh")
    assert [s["start_ns"] for s in ann_view.segments] == [0]  # not ann2's
    ann.tasks.submit(task)

    rita = Host(review_form.SPEC, team["rita"], set(), task=task)
    rita.ok("sample", mode="full")
    lanes = rita.disagreement["lanes"]
    assert [(lane["author"], len(lane["segments"])) for lane in lanes] == [("ann", 1), ("ann2", 1)]
    [pair] = rita.disagreement["pairs"]
    assert pair["mean_tiou"] == pytest.approx(0.5) and pair["skill_alpha"] == 0.0  # reach ≠ grasp
    assert rita.disagreement["consensus"] == [] and rita.disagreement["can_pick"]
    assert "pick the consensus" in rita.refused("pass_task", version=rita.task_version)
    assert rita.ok("consensus", annotations=[theirs.id]) == "consensus: 1 segment(s)"
    assert [c["source"] for c in rita.disagreement["consensus"]] == [theirs.id]
    assert len(rita.segments) == 2  # the annotators' segments to judge; the copy is apart
    assert rita.ok("consensus", author="ann") == "consensus: 1 segment(s) from ann"
    assert rita.ok("pass_task", version=rita.task_version) == "task passed"


def test_the_task_details_list_an_annotator_only_their_own_independent_work(team):
    from annotation_kit.widgets import task_detail
    from tests.integration.test_controllers import Host

    _maya, ann, ann2, task, [one] = _two_annotator_task(team, n=1)
    mine = ann.annotations.add(task, one, start_ns=0, end_ns=SECOND, skill="reach")
    ann2.annotations.add(task, one, start_ns=0, end_ns=2 * SECOND, skill="reach")
    ann2.annotations.mark_invalid(task, one, "blurred", start_ns=SECOND, end_ns=2 * SECOND)
    details = Host(task_detail.SPEC, ann, set(), task=task)
    assert [a["id"] for a in details.annotations] == [mine.id]
    assert details.invalid == []
    manager = Host(task_detail.SPEC, team["maya"], set(), task=task)
    assert len(manager.annotations) == 3
