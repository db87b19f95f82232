"""The skill library as a team sets it up, on SQLite and PostgreSQL: how much each skill is
used; CSV out and back in, all or nothing with each bad line named; an edit by import is a new
version that old annotations do not follow."""

import pytest

from annotation_kit.errors import PermissionDenied, ValidationError
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
    assert [u.name for u in ann.skills.usage()] == ["wipe", "pick", "place"]  # category, name
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
    assert text == "name,category,description,tags\npick,grasp,close the gripper,hand\n"
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
