"""AdminPanel's every request, through its own driver without a browser, on SQLite and
PostgreSQL: what each role sees and may change, and each change read back from the services."""

import json

from annotation_kit.widgets import admin
from tests.conftest import SECOND
from tests.integration.test_controllers import Host, request_kinds


def test_every_request_of_the_admin_panel(team):
    sent: set[str] = set()
    ada = Host(admin.SPEC, team["ada"], sent)
    assert ada.tabs == list(admin.TABS)
    # projects: create, edit, members, the library it offers, archive
    assert "created project kitchen (visible)" in ada.ok(
        "create_project", name="kitchen", description="cups", visibility="visible", members="ann"
    )
    ada.ok("create_project", name="lab", members="ann2, rita")
    ada.ok("edit_project", name="lab", description="robots", visibility="private")
    ada.ok("members", name="lab", members="ann2 rita2")
    assert team["ada"].projects.memberships()["rita2"] == ["lab"]
    assert "rita" not in team["ada"].projects.memberships()
    # the skill library
    ada.ok("create_skill", name="reach", category="arm", description="move to it")
    ada.ok("create_skill", name="pick", category="arm", requires="reach")
    ada.ok("import", what="skills", csv="name,category\nwipe,clean\ngrasp,arm\n")
    assert "line 2" in ada.refused("import", what="skills", csv="name,requires\nx,nothing\n")
    ada.ok("reorder", order="pick, reach")
    assert [s["name"] for s in ada.skills][:2] == ["pick", "reach"]
    assert ada.skills[0]["requires"] == ["reach"] and ada.skills[0]["position"] == 1
    ada.ok("deprecate", name="wipe", deprecated=True)
    assert next(s for s in ada.skills if s["name"] == "wipe")["deprecated"]
    ada.ok("deprecate", name="wipe", deprecated=False)
    ada.ok("merge", name="grasp", into="pick")
    ada.ok("export_csv", what="skills")
    assert ada.csv.startswith("name,category,description,tags,requires,deprecated\npick,arm")
    # dictionaries
    ada.ok("create_dictionary", name="objects", kind="objects", entries="cup, bowl")
    ada.ok("import", what="dictionaries", csv="dictionary,entry\ncolours,red\n")
    ada.ok("export_csv", what="dictionaries")
    assert "colours,labels,red" in ada.csv
    ada.ok("project_library", name="kitchen", skills="pick reach", dictionaries="objects")
    row = next(p for p in ada.projects if p["name"] == "kitchen")
    assert (row["skills"], row["dictionaries"], row["members"]) == (
        ["pick", "reach"],
        ["objects"],
        ["ann"],
    )
    # guidelines: written, versioned, rendered, earlier versions opened
    ada.ok("write_guideline", scope="project", name="kitchen", body="# Cups\n<b>gently</b>")
    ada.ok("write_guideline", scope="project", name="kitchen", body="# Cups\nv2")
    assert (ada.guideline["version"], [v["version"] for v in ada.guideline["versions"]]) == (
        2,
        [2, 1],
    )
    ada.ok("open_guideline", scope="project", name="kitchen", version=1)
    assert "&lt;b&gt;gently&lt;/b&gt;" in ada.guideline["html"]
    assert ada.guideline["reference"] == "[guideline kitchen v1]"
    # settings and users
    ada.ok("setting", key="export_rate_hz", value="15")
    assert json.loads(next(s for s in ada.settings if s["key"] == "export_rate_hz")["value"]) == 15
    assert "write the value as JSON" in ada.refused("setting", key="export_rate_hz", value="fast")
    ada.ok("setting", key="export_rate_hz", reset=True)
    ada.ok("user", what="create", name="newbie", role="annotator", password="a long password!")
    ada.ok("user", what="role", name="newbie", role="reviewer")
    ada.ok("user", what="disabled", name="newbie")
    ada.ok("user", what="active", name="newbie")
    ada.ok("user", what="password", name="newbie", password="another long one")
    ada.ok("import", what="users", csv="username,role,project\nnovice,annotator,kitchen\n")
    assert {"newbie", "novice"} <= {u["name"] for u in ada.users}
    ada.ok("archive", name="lab", archived=True)
    assert next(p for p in ada.projects if p["name"] == "lab")["archived"]
    ada.ok("archive", name="lab", archived=False)
    ada.set(tab="users")
    assert ada.tab == "users"
    ada.ok("refresh")
    assert "unknown request" in ada.refused("explode")
    assert (set(admin.ACTIONS) | request_kinds(admin)) - sent == set()

    # a visitor: visible projects only, read-only, no settings or users
    vic = Host(admin.SPEC, team["vic"], set())
    assert vic.tabs == ["projects", "skills", "dictionaries", "guidelines"]
    assert [p["name"] for p in vic.projects] == ["kitchen"]
    assert not any(vic.can.values())
    assert "may not" in vic.refused("create_project", name="mine")
    assert "may not" in vic.refused("setting", key="export_format", value='"csv"')
    vic.set(tab="users")
    assert vic.tab == "projects" and vic.users == []
    assert "no project 'lab'" in vic.refused("open_guideline", scope="project", name="lab")
    # a reviewer writes guidelines, changes nothing else
    rita = Host(admin.SPEC, team["rita"], set())
    assert rita.can == {
        "projects": False,
        "library": False,
        "guidelines": True,
        "settings": False,
        "users": False,
    }
    rita.ok("write_guideline", scope="skill", name="pick", body="Close, then lift.")
    assert "may not" in rita.refused("deprecate", name="pick", deprecated=True)
    # an annotator of the kitchen reads what the library lets them
    [episode] = team.new_datasets_now(1)
    task = team["maya"].tasks.create(
        "cups", datasets=[episode], annotators=["ann"], project="kitchen"
    )
    assert [g.name for g in team["ann"].guidelines.for_task(task.id)] == ["kitchen", "pick"]
    assert [s.name for s in team["ann"].skills.offered(task.id)] == ["pick", "reach"]
    team["ann"].tasks.start(task.id)
    team["ann"].annotations.add(task.id, episode, start_ns=0, end_ns=SECOND, skill="reach")
