"""Review rounds from the services: random samples, what changed since the last round, and no
pass while an annotation is rejected. Runs on SQLite and PostgreSQL."""

import pytest

import annotation_kit as ak

SECOND = 1_000_000_000


@pytest.fixture
def review(team):
    maya = team["maya"]
    for name in ("pick", "place"):
        maya.skills.create(name)
    task = team.task("in_progress", n_datasets=6)
    ids = team["ada"].tasks.task_dataset_ids(task.id)
    ann = team["ann"]
    made = [
        ann.annotations.add(task.id, d, start_ns=0, end_ns=SECOND, skill="pick", description="a")
        for d in ids
    ]
    ann.tasks.submit(task.id)
    return team, task.id, ids, made


def test_samples_are_random_recorded_and_repeatable(review):
    team, task, ids, _ = review
    rita = team["rita"]
    assert rita.reviews.current_sample(task) is None
    half = rita.reviews.draw_sample(task, percent=50, seed=7)
    assert (half.mode, len(half.datasets), set(half.datasets) <= set(ids)) == ("percent", 3, True)
    assert rita.reviews.current_sample(task) == half
    again = rita.reviews.draw_sample(task, percent=50, seed=7)
    assert again.datasets == half.datasets  # the seed repeats the draw
    assert len(rita.reviews.draw_sample(task, percent=1).datasets) == 1  # rounded up
    assert len(rita.reviews.draw_sample(task, count=10).datasets) == 6  # capped
    assert rita.reviews.draw_sample(task).datasets == sorted(ids)  # full review
    history = [e.action for e in rita.events.history("task", task)]
    assert history.count("review_sample") == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"percent": 0}, "above 0"),
        ({"percent": 150}, "at most 100"),
        ({"count": 0}, "whole number ≥ 1"),
        ({"count": 2.5}, "count must be an integer or None, got float 2.5"),
        ({"count": 1, "percent": 10}, "not both"),
        ({"percent": "half"}, "must be a number"),
    ],
)
def test_bad_sample_sizes_are_refused(review, options, message):
    team, task, _, _ = review
    with pytest.raises(ak.ValidationError, match=message):
        team["rita"].reviews.draw_sample(task, **options)
    assert team["rita"].reviews.current_sample(task) is None


def test_only_reviewers_sample_and_only_in_review(review):
    team, task, _, _ = review
    with pytest.raises(ak.PermissionDenied, match="ann may not choose a review sample"):
        team["ann"].reviews.draw_sample(task, percent=50)
    team["rita"].tasks.approve(task)
    with pytest.raises(ak.InvalidTransition, match="may not choose a review sample"):
        team["rita"].reviews.draw_sample(task, percent=50)


def test_changes_since_last_round(review):
    team, task, ids, made = review
    ann, rita = team["ann"], team["rita"]
    assert rita.reviews.changes_since_last_round(task) == []
    rita.reviews.judge(made[0].id, "reject", comment="ends too early", range_ns=(0, SECOND))
    refused = rf"rejected in this review round \(#{made[0].id}\)"
    with pytest.raises(ak.ValidationError, match=refused):
        rita.tasks.approve(task)
    rita.tasks.reject(task, comment="fix #1", dataset=ids[0], range_ns=(0, SECOND))
    ann.annotations.update(made[0].id, expected_version=made[0].version, end_ns=2 * SECOND)
    moved = ann.annotations.get(made[0].id)
    ann.annotations.update(moved.id, expected_version=moved.version, skill="place")
    same = ann.annotations.get(made[1].id)  # changed and changed back: not a change
    ann.annotations.update(same.id, expected_version=same.version, description="b")
    ann.annotations.update(same.id, expected_version=same.version + 1, description="a")
    gone = ann.annotations.get(made[2].id)
    ann.annotations.delete(gone.id, expected_version=gone.version)
    new = ann.annotations.add(task, ids[2], start_ns=SECOND, end_ns=3 * SECOND, skill="place")
    flagged = ann.annotations.get(made[3].id)
    ann.annotations.set_valid(flagged.id, False, reason="blurry", expected_version=flagged.version)
    ann.tasks.submit(task)

    changes = {c.annotation: c for c in rita.reviews.changes_since_last_round(task)}
    assert set(changes) == {made[0].id, gone.id, new.id, flagged.id}
    assert changes[made[0].id].kind == "changed"
    assert changes[made[0].id].before == {"end_ns": SECOND, "skill": "pick"}
    assert changes[made[0].id].after["end_ns"] == 2 * SECOND
    assert changes[made[0].id].after["skill"] == "place"
    assert (changes[gone.id].kind, changes[gone.id].dataset) == ("deleted", ids[2])
    assert changes[gone.id].before["skill"] == "pick"
    assert changes[new.id].kind == "new"
    assert changes[flagged.id].before == {"valid": True, "reason": None}
    assert changes[flagged.id].after["reason"] == "blurry"
    # the stale verdict of round 1 stays on record; round 2 starts clean
    assert [v.round for v in rita.reviews.verdicts(task)] == [1]
    assert rita.reviews.verdicts(task, round=2) == []
    assert rita.reviews.current_sample(task) is None  # each round draws its own sample
    rita.tasks.approve(task)


def test_sampling_policies_add_to_the_draw_and_say_why(team):
    maya, ann, ann2, rita = team["maya"], team["ann"], team["ann2"], team["rita"]
    maya.skills.create("pick")
    # ann has a task that passed review first time; ann2 has none (new)
    [earlier] = team.new_datasets_now(1)
    done = maya.tasks.create("earlier", datasets=[earlier], annotators=["ann"], reviewers=["rita"])
    ann.tasks.start(done.id)
    ann.annotations.add(done.id, earlier, start_ns=0, end_ns=SECOND, skill="pick")
    ann.tasks.submit(done.id)
    rita.tasks.approve(done.id)

    maya.projects.create("policy")
    maya.rules.set_rules("policy", [{"rule": "segment_length", "min_s": 1, "severity": "warning"}])
    ids = team.new_datasets_now(8)
    task = maya.tasks.create(
        "sampled", datasets=ids, annotators=["ann", "ann2"], reviewers=["rita"], project="policy"
    ).id
    ann.tasks.start(task)
    for d in ids[:6]:  # ann: six episodes, the last with a segment the rule warns about
        end = SECOND // 2 if d == ids[5] else 2 * SECOND
        ann.annotations.add(task, d, start_ns=0, end_ns=end, skill="pick")
    for d in ids[6:]:
        ann2.annotations.add(task, d, start_ns=0, end_ns=2 * SECOND, skill="pick")
    ann.tasks.submit(task)

    plain = rita.reviews.draw_sample(task, count=1, seed=3)
    assert len(plain.datasets) == 1
    fair = rita.reviews.draw_sample(task, count=1, seed=3, per_annotator=2)
    for theirs in (ids[:6], ids[6:]):
        assert len(set(fair.datasets) & set(theirs)) >= 2
    assert set(plain.datasets) <= set(fair.datasets)  # the policy adds to the same draw
    risky = rita.reviews.draw_sample(task, count=1, seed=3, risky=True)
    assert {ids[5], *ids[6:]} <= set(risky.datasets)
    assert not (set(ids[:5]) - set(plain.datasets)) & set(risky.datasets)  # ann's others: no
    [event] = [e for e in rita.events.history("task", task) if e.action == "review_sample"][:1]
    assert event.data["why"][str(ids[5])] == "rule segment_length"
    assert "ann2 is new" in event.data["why"][str(ids[6])]
    with pytest.raises(ak.ValidationError, match="per_annotator must be a whole number"):
        rita.reviews.draw_sample(task, count=1, per_annotator=0)


def test_the_review_form_draws_with_policies_and_shows_rule_findings(team):
    from annotation_kit.widgets import review_form
    from tests.integration.test_controllers import Host

    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    maya.skills.create("pick")
    maya.projects.create("form")
    maya.rules.set_rules("form", [{"rule": "segment_length", "min_s": 1, "severity": "warning"}])
    ids = team.new_datasets_now(4)
    task = maya.tasks.create(
        "form", datasets=ids, annotators=["ann", "ann2"], reviewers=["rita"], project="form"
    ).id
    ann.tasks.start(task)
    for d in ids[:3]:
        ann.annotations.add(task, d, start_ns=0, end_ns=SECOND // 2, skill="pick")
    ann2.annotations.add(task, ids[3], start_ns=0, end_ns=2 * SECOND, skill="pick")
    ann.tasks.submit(task)
    rita = Host(review_form.SPEC, team["rita"], set(), task=task)
    rita.send("sample", mode="count", size=1, per_annotator=1, risky=False)
    assert not rita._error, rita._error
    drawn = team["rita"].reviews.current_sample(task).datasets
    assert {ids[3]} <= set(drawn) and set(drawn) & set(ids[:3])  # one of each annotator's
    rita.send("sample", mode="count", size=1, per_annotator="1.5")
    assert "per annotator must be a whole number" in rita._error
    rita.send("sample", mode="count", size=1, risky=True)  # every episode is risky here
    assert team["rita"].reviews.current_sample(task).datasets == sorted(ids)
    rita.send("open", dataset=ids[0])
    assert [f["rule"] for f in rita.findings] == ["segment_length"]
