"""Administration services on SQLite and PostgreSQL: versioned dictionaries (CSV all or
nothing, usage, the project's dictionaries the only labels offered and accepted), guidelines
(versioned, written by managers and reviewers, rendered so no script runs), project visibility
and archive, and who may do each."""

import pytest

from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from annotation_kit.library import guidelines
from tests.conftest import SECOND


def test_dictionaries_are_versioned_used_and_scoped_to_projects(team):
    maya, ann, ada = team["maya"], team["ann"], team["ada"]
    objects = maya.dictionaries.create("objects", ["cup", "bowl"], kind="objects")
    maya.dictionaries.create("colours", ["red", "blue"], kind="attributes")
    assert objects.version == 1
    changed = maya.dictionaries.edit("objects", entries=["cup", "bowl", "plate"])
    assert changed.version == 2
    assert maya.dictionaries.version("objects", 1).entries == ["cup", "bowl"]
    with pytest.raises(NotFound, match="versions 1 to 2, not 3"):
        maya.dictionaries.version("objects", 3)

    ada.projects.create("kitchen", members=["ann"])
    first, second = team.new_datasets_now(2)
    scoped = maya.tasks.create("kitchen", datasets=[first], annotators=["ann"], project="kitchen")
    free = maya.tasks.create("free", datasets=[second], annotators=["ann"])
    maya.dictionaries.use_in_project("kitchen", ["objects"])
    assert ann.dictionaries.offered(scoped.id) == ["bowl", "cup", "plate"]
    assert ann.dictionaries.offered(free.id) == ["blue", "bowl", "cup", "plate", "red"]
    ann.tasks.start(scoped.id)
    ann.tasks.start(free.id)
    with pytest.raises(ValidationError, match=r"'red' are not in the project's dictionaries"):
        ann.annotations.add(scoped.id, first, start_ns=0, end_ns=SECOND, labels=["red"])
    made = ann.annotations.add(scoped.id, first, start_ns=0, end_ns=SECOND, labels=["cup"])
    ann.annotations.add(free.id, second, start_ns=0, end_ns=SECOND, labels=["red", "cup"])
    used = {u.name: u for u in maya.dictionaries.usage()}
    assert (used["objects"].annotations, used["objects"].labels) == (
        2,
        {"cup": 2, "bowl": 0, "plate": 0},
    )
    assert (used["objects"].projects, used["colours"].projects) == (["kitchen"], [])
    assert used["colours"].last_used is not None

    maya.dictionaries.edit("objects", entries=["bowl"])  # cup taken out: kept where it is
    assert maya.annotations.get(made.id).labels == ["cup"]
    with pytest.raises(PermissionDenied):
        ann.dictionaries.edit("objects", entries=["x"])
    with pytest.raises(PermissionDenied):
        ann.dictionaries.use_in_project("kitchen", [])


def test_dictionary_csv_all_or_nothing(team):
    maya = team["maya"]
    maya.dictionaries.create("objects", ["cup"], kind="objects")
    text = "dictionary,kind,entry\nobjects,objects,cup\nobjects,objects,bowl\ncolours,,red\n"
    done = maya.dictionaries.import_csv(text)
    assert (done.created, done.changed) == (["colours"], ["objects"])
    assert maya.dictionaries.get("colours").kind == "labels"
    out = maya.dictionaries.export_csv()
    assert out == (
        "dictionary,kind,entry\ncolours,labels,red\nobjects,objects,cup\nobjects,objects,bowl\n"
    )
    assert maya.dictionaries.import_csv(out).unchanged == ["colours", "objects"]
    bad = "dictionary,kind,entry\nobjects,objects,\nobjects,labels,cup\n,x,y\nnew,labels,one\n"
    with pytest.raises(ValidationError) as refused:
        maya.dictionaries.import_csv(bad)
    message = str(refused.value)
    assert message.startswith("dictionary import refused, nothing was written")
    assert "line 2: entry of dictionary 'objects'" in message
    assert "line 4: dictionary name" in message
    assert "line 3: dictionary 'objects' is of kind 'objects' on line 2" not in message  # bad line
    assert "new" not in [d.name for d in maya.dictionaries.list_dictionaries()]
    with pytest.raises(PermissionDenied):
        team["ann"].dictionaries.import_csv(text)


def test_guidelines_are_versioned_and_rendered_safely(team):
    maya, ann, rita, ada = team["maya"], team["ann"], team["rita"], team["ada"]
    ada.projects.create("kitchen", members=["ann", "rita"])
    maya.skills.create("pick")
    maya.skills.create("wipe")
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("g", datasets=[episode], annotators=["ann"], project="kitchen").id
    first = maya.guidelines.write("# Kitchen\nSegment **every** grasp.", project="kitchen")
    assert first.version == 1
    same = maya.guidelines.write("# Kitchen\nSegment **every** grasp.", project="kitchen")
    assert (same.id, same.version) == (first.id, 1)  # unchanged: no new version
    attack = (
        "Close the gripper <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[bad](javascript:alert(3)) [example](#episode=1&at=1.5-3) [docs](https://example.org)"
    )
    second = rita.guidelines.write(attack, skill="pick")
    assert second.version == 1
    rita.guidelines.write("Close, then lift.", skill="pick")
    assert [g.version for g in maya.guidelines.history(skill="pick")] == [2, 1]
    assert maya.guidelines.get(skill="pick", version=1).body == attack

    html = guidelines.render(attack)
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    assert '<a href="#episode=1&amp;at=1.5-3">example</a>' in html
    assert 'href="https://example.org" target="_blank" rel="noopener noreferrer"' in html

    shown = ann.guidelines.for_task(task)
    assert [(g.scope, g.name, g.version) for g in shown] == [
        ("project", "kitchen", 1),
        ("skill", "pick", 2),
    ]
    assert "<strong>every</strong>" in shown[0].html
    assert shown[1].reference == "[guideline pick v2]"
    maya.skills.use_in_project("kitchen", ["wipe"])  # pick no longer offered: nor its guideline
    assert [g.name for g in ann.guidelines.for_task(task)] == ["kitchen"]

    with pytest.raises(PermissionDenied, match="write annotation guidelines"):
        ann.guidelines.write("mine", project="kitchen")
    with pytest.raises(ValidationError, match="a project or to a skill"):
        maya.guidelines.write("both", project="kitchen", skill="pick")
    with pytest.raises(ValidationError, match="must not be empty"):
        maya.guidelines.write("  ", project="kitchen")
    with pytest.raises(NotFound, match="skill wipe has no guideline yet"):
        maya.guidelines.get(skill="wipe")
    assert [e.action for e in maya.events.history(object_type="guideline")][:1] == ["write"]


def test_a_reviewer_outside_a_project_neither_reads_nor_writes_its_guideline(team):
    ada, rita = team["ada"], team["rita"]
    ada.projects.create("secret", members=["ann"])
    ada.projects.create("shown", members=["ann"], visibility="visible")
    for project in ("secret", "shown"):
        ada.guidelines.write(f"# {project}", project=project)
    with pytest.raises(NotFound, match="no project 'secret' that rita may see"):
        rita.guidelines.write("mine now", project="secret")
    with pytest.raises(NotFound, match="no project 'secret' that rita may see"):
        rita.guidelines.get(project="secret")
    with pytest.raises(NotFound):
        rita.guidelines.history(project="secret")
    assert rita.guidelines.get(project="shown").body == "# shown"  # visible: read-only
    with pytest.raises(PermissionDenied, match="only its members"):
        rita.guidelines.write("mine now", project="shown")
    assert [g.version for g in ada.guidelines.history(project="secret")] == [1]
    assert [g.version for g in ada.guidelines.history(project="shown")] == [1]
    ada.projects.add_members("secret", ["rita"])
    assert rita.guidelines.write("ours", project="secret").version == 2


def test_visible_projects_are_seen_read_only_and_archived_ones_take_no_task(team):
    maya, vic, ann2 = team["maya"], team["vic"], team["ann2"]
    first, second = team.new_datasets_now(2)
    maya.projects.create("open", visibility="visible")
    maya.projects.create("closed")
    shown = maya.tasks.create("shown", datasets=[first], annotators=["ann"], project="open")
    hidden = maya.tasks.create("hidden", datasets=[second], annotators=["ann"], project="closed")
    assert [p.name for p in vic.projects.list_projects()] == ["open"]
    assert [t.id for t in vic.task_queries.list_tasks().items] == [shown.id]
    assert vic.tasks.get(shown.id).name == "shown"
    with pytest.raises(NotFound):
        vic.tasks.get(hidden.id)
    with pytest.raises(PermissionDenied):
        ann2.tasks.start(shown.id)  # seen, not changed
    with pytest.raises(ValidationError, match="visibility is 'public'"):
        maya.projects.edit("closed", visibility="public")
    maya.projects.edit("closed", visibility="visible", description="now everyone's")
    assert hidden.id in [t.id for t in vic.task_queries.list_tasks().items]

    maya.projects.archive("open", note="done")
    with pytest.raises(ValidationError, match="'open' is archived"):
        maya.tasks.create("late", datasets=[], project="open")
    assert [p.name for p in maya.projects.list_projects(archived=False)] == ["closed"]
    assert vic.tasks.get(shown.id).name == "shown"  # still readable
    maya.projects.unarchive("open")
    maya.tasks.create("late", datasets=[], project="open")
    with pytest.raises(PermissionDenied):
        vic.projects.archive("open")
    with pytest.raises(PermissionDenied):
        team["rita"].projects.edit("open", visibility="private")


PEOPLE = ("ada", "maya", "ann", "rita", "vic", "col", "dis")
SUPERVISORS = {"ada", "maya"}


def test_who_may_do_each_administration_action(team, tmp_path):
    """Every new action, by every role: the allowed succeed, the others are refused with
    PermissionDenied and change nothing."""
    ada = team["ada"]
    ada.projects.create("base", members=["rita"])  # reviewers write the guidelines of theirs
    ada.skills.create("base-skill")
    ada.dictionaries.create("base-dict", ["x"])
    (tmp_path / "root").mkdir()
    ada.storage.create("base-store", "local", {"root": str(tmp_path / "root")})
    actions = {
        "skills.create": (SUPERVISORS, lambda ws, n: ws.skills.create(f"s-{n}")),
        "skills.edit": (SUPERVISORS, lambda ws, n: ws.skills.edit("base-skill", description=n)),
        "skills.deprecate": (SUPERVISORS, lambda ws, n: ws.skills.deprecate("base-skill")),
        "skills.restore": (SUPERVISORS, lambda ws, n: ws.skills.restore("base-skill")),
        "skills.reorder": (SUPERVISORS, lambda ws, n: ws.skills.reorder(["base-skill"])),
        "skills.merge": (
            SUPERVISORS,
            lambda ws, n: ws.skills.merge(ada.skills.create(f"m-{n}").name, "base-skill"),
        ),
        "skills.use_in_project": (
            SUPERVISORS,
            lambda ws, n: ws.skills.use_in_project("base", ["base-skill"]),
        ),
        "skills.import_csv": (SUPERVISORS, lambda ws, n: ws.skills.import_csv(f"name\ni-{n}\n")),
        "dictionaries.create": (SUPERVISORS, lambda ws, n: ws.dictionaries.create(f"d-{n}", [])),
        "dictionaries.edit": (
            SUPERVISORS,
            lambda ws, n: ws.dictionaries.edit("base-dict", entries=["x", n]),
        ),
        "dictionaries.use_in_project": (
            SUPERVISORS,
            lambda ws, n: ws.dictionaries.use_in_project("base", ["base-dict"]),
        ),
        "dictionaries.import_csv": (
            SUPERVISORS,
            lambda ws, n: ws.dictionaries.import_csv(f"dictionary,entry\nc-{n},y\n"),
        ),
        "guidelines.write": (
            SUPERVISORS | {"rita"},
            lambda ws, n: ws.guidelines.write(f"by {n}", project="base"),
        ),
        "projects.create": (SUPERVISORS, lambda ws, n: ws.projects.create(f"p-{n}")),
        "projects.edit": (SUPERVISORS, lambda ws, n: ws.projects.edit("base", description=n)),
        "projects.archive": (SUPERVISORS, lambda ws, n: ws.projects.archive("base")),
        "projects.unarchive": (SUPERVISORS, lambda ws, n: ws.projects.unarchive("base")),
        "settings.change": ({"ada"}, lambda ws, n: ws.settings.change("export_rate_hz", 20)),
        "storage.create": (
            {"ada"},
            lambda ws, n: ws.storage.create(f"st-{n}", "local", {"root": str(tmp_path)}),
        ),
        "storage.browse": (SUPERVISORS | {"col"}, lambda ws, n: ws.storage.browse("base-store")),
        "storage.list_connections": (
            SUPERVISORS | {"col"},
            lambda ws, n: ws.storage.list_connections(),
        ),
        "storage.remove": (
            {"ada"},
            lambda ws, n: ws.storage.remove(
                ada.storage.create(f"gone-{n}", "local", {"root": str(tmp_path)}).name
            ),
        ),
    }
    outcomes = {}
    for action, (_allowed, act) in actions.items():
        for person in PEOPLE:
            try:
                act(team[person], person)
                outcomes[action, person] = "ok"
            except PermissionDenied:
                outcomes[action, person] = "denied"
    expected = {
        (action, person): "ok" if person in allowed else "denied"
        for action, (allowed, _act) in actions.items()
        for person in PEOPLE
    }
    assert outcomes == expected
    names = [s.name for s in ada.skills.list_skills()]
    assert "s-ann" not in names and "s-maya" in names  # a refusal wrote nothing
