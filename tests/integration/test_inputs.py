"""What users type is stored verbatim and never interpreted; bad input gets a clear error."""

import pytest

import annotation_kit as ak

PAYLOADS = [
    "'; DROP TABLE tasks; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "%_\\ wildcard % chars _",
    "ünïcödé 名前 🤖",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_round_trip_verbatim(team, payload):
    task = team.task("pending_review", annotated=True, name=payload)
    team["maya"].tasks.edit(task.id, description=payload)
    team["rita"].tasks.reject(task.id, comment=payload)
    stored = team["maya"].tasks.get(task.id)
    assert (stored.name, stored.description) == (payload, payload)
    assert team["maya"].reviews.task_reviews(task.id)[0].comment == payload
    found = team["maya"].task_queries.list_tasks(search=payload)
    assert [c.id for c in found.items] == [task.id]
    assert len(team["ada"].users.list_users()) == 9


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "task name must not be empty"),
        ("   ", "task name must not be empty"),
        ("x" * 201, "task name is 201 characters long"),
    ],
)
def test_bad_task_names(team, name, problem):
    with pytest.raises(ak.ValidationError, match=problem):
        team["maya"].tasks.create(name)
    assert team["maya"].task_queries.list_tasks().total == 0


def test_over_long_comment_is_refused_and_nothing_changes(team):
    task = team.task("pending_review", annotated=True)
    with pytest.raises(ak.ValidationError, match="comment is 20001 characters"):
        team["rita"].tasks.reject(task.id, comment="x" * 20_001)
    assert team["rita"].tasks.get(task.id).status == "pending_review"


def test_unknown_users_and_roles(team):
    with pytest.raises(ak.NotFound, match="no user named 'mallory'; known users: ada, ann"):
        ak.connect(team["ada"].url, user="mallory")
    with pytest.raises(ak.ValidationError, match="unknown role 'boss'; roles are: admin"):
        team["ada"].users.create("bob", "boss")
    with pytest.raises(ak.ValidationError, match="already exists"):
        team["ada"].users.create("ann", "annotator")
    with pytest.raises(ak.PermissionDenied, match="manager 'maya' may not create users"):
        team["maya"].users.create("bob", "annotator")


def test_csv_import_all_or_nothing(team, tmp_path):
    team["maya"].projects.create("kitchen")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "username,role,project\nzoe,annotator,kitchen\nyan,boss,kitchen\n"
        "xia,reviewer,garage\n,annotator,\n"
    )
    with pytest.raises(ak.ValidationError) as caught:
        team["ada"].users.import_csv(bad)
    message = str(caught.value)
    assert "line 3: unknown role 'boss'" in message
    assert "line 4: unknown project 'garage'" in message
    assert "line 5: username must not be empty" in message
    assert "zoe" not in [u.name for u in team["ada"].users.list_users()]
    good = tmp_path / "good.csv"
    good.write_text(
        "username,role,project\nzoe,annotator,kitchen\n<b>yan</b>,reviewer,\nann,reviewer,kitchen\n"
    )
    report = team["ada"].users.import_csv(good)
    assert (report.created, report.role_changed) == (["zoe", "<b>yan</b>"], ["ann"])
    assert {u.name for u in team["ada"].projects.get("kitchen").members} == {"zoe", "ann"}
    with pytest.raises(ak.ValidationError, match="needs a header"):
        team["ada"].users.import_csv("name;role\nq;admin\n")
    with pytest.raises(ak.PermissionDenied):
        team["maya"].users.import_csv(good)
