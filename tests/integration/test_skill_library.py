"""The skill library as a team sets it up, on SQLite and PostgreSQL: how much each skill is
used; CSV out and back in, all or nothing with each bad line named; an edit by import is a new
version that old annotations do not follow."""

import json

import pytest

from annotation_kit.errors import InvalidTransition, PermissionDenied, ValidationError
from tests.conftest import SECOND


def test_usage_counts_annotations_episodes_and_annotators(team):
    maya, ann = team["maya"], team["ann"]
    maya.skills.create("pick", category="grasp")
    maya.skills.create("place", category="grasp")
    maya.skills.create("wipe", category="clean")
    first, second = team.new_datasets_now(2)
    task = maya.tasks.create("use", datasets=[first, second], annotators=["ann"]).id
    ann.tasks.start(task)
    ann.annotations.add(task, first, start_ns=0, end_ns=SECOND, skill="pick")
    ann.annotations.add(task, second, start_ns=0, end_ns=SECOND, skill="pick")
    last = maya.annotations.add(task, second, start_ns=SECOND, end_ns=2 * SECOND, skill="place")
    used = {u.name: u for u in ann.skills.usage()}
    assert [u.name for u in ann.skills.usage()] == ["pick", "place", "wipe"]  # as they were added
    assert (used["pick"].annotations, used["pick"].episodes, used["pick"].annotators) == (2, 2, 1)
    assert (used["place"].annotators, used["place"].last_used) == (1, last.updated_at)
    assert (used["wipe"].annotations, used["wipe"].last_used) == (0, None)


def test_csv_out_and_back_in_all_or_nothing(team, tmp_path):
    maya, ann = team["maya"], team["ann"]
    maya.skills.create("pick", category="grasp", description="close the gripper", tags=["hand"])
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("versions", datasets=[episode], annotators=["ann"]).id
    made = maya.annotations.add(task, episode, start_ns=0, end_ns=SECOND, skill="pick")
    text = maya.skills.export_csv()
    assert text == (
        "name,category,description,tags,requires,deprecated\npick,grasp,close the gripper,hand,,\n"
    )
    again = maya.skills.import_csv(text)
    assert (again.created, again.changed, again.unchanged) == ([], [], ["pick"])

    path = tmp_path / "skills.csv"
    path.write_text(
        "name,category,description,tags\n"
        'pick,grasp,"close the gripper, then lift",hand;wrist\n'
        "wipe,clean,,\n"
    )
    done = maya.skills.import_csv(path)
    assert (done.created, done.changed) == (["wipe"], ["pick"])
    pick = maya.skills.get("pick")
    assert (pick.version, pick.description, pick.tags) == (
        2,
        "close the gripper, then lift",
        ["hand", "wrist"],
    )
    assert maya.annotations.get(made.id).skill_version == 1  # old annotations keep theirs

    bad = (
        f"name,category,description,tags\nreach,,,\n,arm,no name,\nreach,,twice,\n{'x' * 500},,,\n"
    )
    with pytest.raises(ValidationError) as refused:
        maya.skills.import_csv(bad)
    message = str(refused.value)
    assert message.startswith("skill import refused, nothing was written")
    assert "line 3: " in message and "line 4: skill 'reach' is already on line 2" in message
    assert "line 5: " in message and "line 2" not in message.split("line 4")[0]
    assert sorted(s.name for s in maya.skills.list_skills()) == ["pick", "wipe"]  # no 'reach'
    with pytest.raises(ValidationError, match="needs a header"):
        maya.skills.import_csv("skill,category\npick,grasp\n")
    with pytest.raises(PermissionDenied):
        ann.skills.import_csv(text)
    assert ann.skills.export_csv().startswith("name,category")  # anyone may read the library


def test_dependencies_feed_the_rule_checks_and_refuse_cycles(team):
    maya, ann = team["maya"], team["ann"]
    for name in ("reach", "pick", "place"):
        maya.skills.create(name)
    maya.skills.edit("pick", requires=["reach"])
    maya.skills.edit("place", requires=["pick"])
    assert maya.skills.requirements() == {"pick": ["reach"], "place": ["pick"]}
    assert maya.skills.get("place").version == 2  # a dependency is an edit: a new version
    with pytest.raises(ValidationError, match="would require itself"):
        maya.skills.edit("reach", requires=["place"])
    with pytest.raises(ValidationError, match="cannot require itself"):
        maya.skills.edit("reach", requires=["reach"])
    with pytest.raises(PermissionDenied):
        ann.skills.edit("reach", requires=["pick"])

    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("order", datasets=[episode], annotators=["ann"]).id
    ann.tasks.start(task)
    ann.annotations.add(task, episode, start_ns=0, end_ns=SECOND, skill="pick")
    ann.annotations.add(task, episode, start_ns=2 * SECOND, end_ns=3 * SECOND, skill="place")
    found = ann.rules.evaluate(task)
    assert [(f.rule, f.message) for f in found] == [
        ("skill_requires", "'pick' needs a segment of 'reach' before it")
    ]
    with pytest.raises(InvalidTransition, match="needs a segment of 'reach'"):
        ann.tasks.submit(task)
    ann.annotations.add(task, episode, start_ns=0, end_ns=SECOND // 2, skill="pick")
    ann.annotations.add(task, episode, start_ns=0, end_ns=SECOND // 4, skill="reach")
    assert ann.rules.evaluate(task)  # reach starts with pick, not before it
    maya.skills.edit("pick", requires=[])
    assert [f.message for f in ann.rules.evaluate(task)] == []
    ann.tasks.submit(task)


def test_hot_key_order_deprecation_and_merge_keep_old_annotations(team, tmp_path):
    maya, ann = team["maya"], team["ann"]
    for name in ("grasp", "pick", "place", "wipe"):
        maya.skills.create(name)
    assert maya.skills.reorder(["wipe", "place"]) == ["wipe", "place", "grasp", "pick"]
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("library", datasets=[episode], annotators=["ann"]).id
    ann.tasks.start(task)
    assert [s.name for s in ann.skills.offered(task)] == ["wipe", "place", "grasp", "pick"]
    old = ann.annotations.add(task, episode, start_ns=0, end_ns=SECOND, skill="grasp")
    twin = ann.annotations.add(task, episode, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")

    maya.skills.deprecate("grasp", note="use pick")
    assert "grasp" not in [s.name for s in ann.skills.offered(task)]
    with pytest.raises(ValidationError, match="'grasp' is deprecated; offered: wipe, place, pick"):
        ann.annotations.add(task, episode, start_ns=0, end_ns=SECOND, skill="grasp")
    kept = ann.annotations.update(old.id, expected_version=old.version, description="still grasp")
    assert (kept.skill_id, kept.skill_version) == (old.skill_id, 1)  # kept on its annotation
    maya.skills.restore("grasp")
    assert "grasp" in [s.name for s in ann.skills.offered(task)]

    maya.skills.edit("pick", description="v2")
    assert maya.skills.merge("grasp", "pick") == 1
    moved = maya.annotations.get(old.id)
    pick = maya.skills.get("pick")
    assert (moved.skill_id, moved.skill_version, moved.start_ns, moved.description) == (
        pick.id,
        2,
        0,
        "still grasp",
    )
    assert maya.annotations.get(twin.id).skill_version == 1  # untouched: it was pick v1
    grasp = maya.skills.get("grasp")
    assert (grasp.deprecated, grasp.merged_into) == (True, pick.id)
    assert maya.skills.version("grasp", 1).name == "grasp"  # old versions stay readable
    with pytest.raises(ValidationError, match="stays retired"):
        maya.skills.restore("grasp")
    notes = [e.note for e in maya.events.history(object_type="annotation", object_id=old.id)]
    assert any("merged into 'pick'" in n for n in notes)
    with pytest.raises(PermissionDenied):
        ann.skills.merge("pick", "wipe")
    maya.export([task], "json", tmp_path / "out", any_status=True)  # exports carry the version
    records = json.loads((tmp_path / "out" / "annotations.json").read_text())["annotations"]
    assert sorted((r["skill"], r["skill_version"]) for r in records) == [("pick", 1), ("pick", 2)]


def test_csv_carries_requirements_and_deprecation(team):
    maya = team["maya"]
    text = (
        "name,category,description,tags,requires,deprecated\n"
        "place,,,,pick,\n"  # pick comes later in the file
        "pick,,,,reach,\n"
        "reach,,,,,\n"
        "grasp,,,,,yes\n"
    )
    done = maya.skills.import_csv(text)
    assert sorted(done.created) == ["grasp", "pick", "place", "reach"]
    assert maya.skills.requirements() == {"pick": ["reach"], "place": ["pick"]}
    assert maya.skills.get("grasp").deprecated
    exported = maya.skills.export_csv()
    assert "place,,,,pick,\n" in exported and "grasp,,,,,yes\n" in exported
    assert maya.skills.import_csv(exported).changed == []
    with pytest.raises(ValidationError) as refused:
        maya.skills.import_csv("name,requires,deprecated\nwipe,mop,\nreach,place,\nlift,,maybe\n")
    message = str(refused.value)
    assert "line 2: requires 'mop', in neither the file nor the library" in message
    assert "line 4: deprecated is 'maybe'" in message
    with pytest.raises(ValidationError, match="line 3: skill 'reach' would require itself"):
        maya.skills.import_csv("name,requires\nwipe,\nreach,place\n")
    assert maya.skills.get("reach").requires == []  # nothing of the refused import stayed
    assert "wipe" not in [s.name for s in maya.skills.list_skills()]


def test_a_fresh_librarys_hot_keys_follow_the_order_skills_were_added(team):
    """Created reach, grasp, lift, place: key 1 is reach (not grasp, the first by name)."""
    maya, ann = team["maya"], team["ann"]
    for name in ("reach", "grasp", "lift", "place"):
        maya.skills.create(name, category="arm" if name != "lift" else "base")
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("keys", datasets=[episode], annotators=["ann"]).id
    assert [s.name for s in ann.skills.offered(task)] == ["reach", "grasp", "lift", "place"]
    assert maya.skills.reorder(["place"]) == ["place", "reach", "grasp", "lift"]
