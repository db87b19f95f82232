"""Bad input at every public service, on both backends: a library error or nothing written.

Each service is called as a user allowed to make the call, with valid arguments except one,
which gets a value that must be refused (NUL or over-long text, a lone surrogate, integers past
64 bits, NaN inside JSON, naive or string deadlines, a bare string where a list belongs...).
The call must raise one of annotation_kit's own errors and leave every table as it was; a call
that only reads may instead succeed (finding nothing). Two suites share the table below: a fixed
matrix (every parameter × every bad value of its kind) and a Hypothesis search drawing from
strategies of the same kinds.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import annotation_kit as ak
from annotation_kit.store.database import is_readonly
from annotation_kit.store.models import Base

SECOND = 1_000_000_000
HUGE = 2**63
MB = "x" * 1_000_000

# -- bad values by kind: each one must be refused wherever a parameter of that kind is ------------
TEXT_BAD = ["a\x00b", "\ud800", "x" * 20_001, 5, b"bytes", ["x"]]
NAME_BAD = ["", "  ", "x" * 201, *TEXT_BAD[:2], 5, b"bytes", ["x"]]
OPTNAME_BAD = NAME_BAD[1:]  # an optional name may be empty
REF_BAD = [HUGE, -HUGE - 1, 1.5, "a\x00b", "\ud800", MB, True, ["x"]]
ID_BAD = [HUGE, -HUGE - 1, 2**64, "1", 1.5, None, True, float("nan")]
INT_BAD = [HUGE, -1, "3", 1.5, None, float("nan"), True]
NS_BAD = [HUGE, -HUGE - 1, -1, "1", 1.5, float("nan")]
DEADLINE_BAD = [datetime(2030, 1, 1), "2030-01-01", 5, datetime.max]
JSON_BAD = [
    {"a": float("nan")},
    {"a": float("inf")},
    {"a": "x\x00"},
    {"\x00": 1},
    {"a": HUGE * 4},
    {"a": object()},
    {1: 2},
    "not a dict",
    {"a": "\ud800"},
]
STRLIST_BAD = ["abc", [5], ["a\x00"], [MB], [None], ["\ud800"], 5]
IDLIST_BAD = [[HUGE], ["a"], [None], 5, "12", [1.5], [True]]
SEARCH_BAD = [MB, "a\x00b", "\ud800", 5, ["x"]]
BOOL_BAD = ["yes", 2, None, "false"]
RANGE_BAD = [(5 * SECOND, SECOND), (1,), ("a", "b"), (HUGE, HUGE + 1), (-5, 1), "0-1"]
PERCENT_BAD = [float("nan"), float("inf"), -1.0, 101.0, "5", 0.0]
CHOICE_BAD = ["bogus", "a\x00b", 5, MB, "\ud800", None]
SORT_BAD = ["bogus", "-bogus", "a\x00b", MB, 5, "name; DROP TABLE tasks"]
RULES_BAD = [
    [{"kind": "duration", "min_s": "abc"}],
    [{"kind": "required", "streams": 5}],
    [{"kind": "duration", "min_s": float("nan")}],
    [{"kind": "bogus"}],
    "rules",
    [5],
]
CHANGES_BAD = [
    {"description": "a\x00b"},
    {"description": "x" * 20_001},
    {"labels": "abc"},
    {"labels": ["a\x00"]},
    {"attributes": {"a": float("nan")}},
    {"start_ns": HUGE},
    {"start_ns": "1"},
    {"skill": HUGE},
    {"bogus": 1},
    {"version": 99},
]
KINDS: dict[str, list[Any]] = {
    "text": TEXT_BAD,
    "name": NAME_BAD,
    "ref": REF_BAD,
    "id": ID_BAD,
    "optname": OPTNAME_BAD,
    "int": INT_BAD,
    "optint": INT_BAD[:4] + INT_BAD[5:],
    "seed": [HUGE, "3", 1.5, float("nan"), True],
    "ns": NS_BAD,
    "deadline": DEADLINE_BAD,
    "json": JSON_BAD,
    "jsonlist": [[v] for v in JSON_BAD[:6]] + [{"a": 1}, ["x"]],
    "strlist": STRLIST_BAD,
    "idlist": IDLIST_BAD,
    "search": SEARCH_BAD,
    "bool": BOOL_BAD,
    "range": RANGE_BAD,
    "percent": PERCENT_BAD,
    "choice": CHOICE_BAD,
    "sort": SORT_BAD,
    "rules": RULES_BAD,
    "changes": CHANGES_BAD,
}


# -- the services: who calls, valid arguments, and the kind of each parameter ----------------------
def _services(w: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], dict[str, str]]]:
    t, d, a, r = w["task"], w["dataset"], w["annotation"], w["review_task"]
    ra, v = w["review_annotation"], w["version"]
    return [
        ("annotations", "get", "ada", {"annotation_id": a}, {"annotation_id": "id"}),
        (
            "annotations",
            "add",
            "ann",
            {
                "task": t,
                "dataset": d,
                "start_ns": 0,
                "end_ns": SECOND,
                "skill": "pick",
                "labels": ["cup"],
            },
            {
                "task": "id",
                "dataset": "id",
                "start_ns": "ns",
                "end_ns": "ns",
                "skill": "ref",
                "labels": "strlist",
                "description": "text",
                "attributes": "json",
                "provenance": "choice",
                "model_ref": "optname",
            },
        ),
        (
            "annotations",
            "update",
            "ann",
            {"annotation_id": a, "expected_version": v, "description": "ok"},
            {"annotation_id": "id", "expected_version": "int", "description": "text"},
        ),
        (
            "annotations",
            "update",
            "ann",
            {"annotation_id": a, "expected_version": v},
            {"changes": "changes"},
        ),
        (
            "annotations",
            "mark_invalid",
            "ann",
            {"task": t, "dataset": d, "reason": "blurry", "start_ns": 0, "end_ns": SECOND},
            {"task": "id", "dataset": "id", "reason": "text", "start_ns": "ns", "end_ns": "ns"},
        ),
        (
            "annotations",
            "set_valid",
            "ann",
            {"annotation_id": a, "valid": False, "reason": "bad", "expected_version": v},
            {"annotation_id": "id", "valid": "bool", "reason": "text", "expected_version": "int"},
        ),
        (
            "annotations",
            "reannotate",
            "ann",
            {"annotation_id": a, "expected_version": v},
            {"annotation_id": "id", "expected_version": "int"},
        ),
        (
            "annotations",
            "delete",
            "ann",
            {"annotation_id": a, "expected_version": v},
            {"annotation_id": "id", "expected_version": "int"},
        ),
        (
            "annotations",
            "list_annotations",
            "ada",
            {"task": t},
            {"task": "id", "dataset": "id", "valid": "bool"},
        ),
        (
            "annotations",
            "copy_segments",
            "ann",
            {"task": t, "source": d},
            {"task": "id", "source": "id", "targets": "idlist"},
        ),
        ("annotations", "recent_descriptions", "ann", {}, {"limit": "int"}),
        (
            "checks",
            "set_rules",
            "maya",
            {"project": "kitchen", "rules": []},
            {"project": "ref", "rules": "rules"},
        ),
        (
            "checks",
            "run",
            "maya",
            {"dataset_ids": [d]},
            {"dataset_ids": "idlist", "project": "ref"},
        ),
        (
            "checks",
            "override",
            "maya",
            {"dataset": d, "reason": "fine"},
            {"dataset": "id", "reason": "text"},
        ),
        (
            "checks",
            "with_status",
            "maya",
            {"status": "passed"},
            {"status": "choice", "project": "ref"},
        ),
        ("datasets", "get", "ada", {"dataset": d}, {"dataset": "ref"}),
        (
            "datasets",
            "register",
            "maya",
            {"name": "n", "source_uri": "test://new.mcap", "format": "mcap", "duration_ns": SECOND},
            {
                "name": "name",
                "source_uri": "name",
                "format": "choice",
                "duration_ns": "ns",
                "start_time_ns": "ns",
                "streams": "jsonlist",
                "cameras": "jsonlist",
                "size_bytes": "int",
                "robot": "optname",
                "tags": "strlist",
                "meta": "json",
                "project": "ref",
            },
        ),
        ("datasets", "list_datasets", "ada", {}, {"project": "ref"}),
        ("datasets", "require_ids", "ada", {"ids": [d]}, {"ids": "idlist"}),
        (
            "events",
            "history",
            "ada",
            {"object_type": "task", "object_id": t},
            {"object_type": "choice", "object_id": "id", "limit": "int"},
        ),
        ("progress", "counts", "ada", {"task_ids": [t]}, {"task_ids": "idlist"}),
        ("progress", "task_progress", "ada", {"task": t}, {"task": "id"}),
        ("progress", "dataset_status", "ada", {"task": t}, {"task": "id"}),
        ("progress", "statistics", "ada", {"task": t}, {"task": "id"}),
        ("projects", "get", "ada", {"project": "kitchen"}, {"project": "ref"}),
        (
            "projects",
            "create",
            "maya",
            {"name": "garage"},
            {"name": "name", "description": "text", "members": "strlist"},
        ),
        (
            "projects",
            "add_members",
            "maya",
            {"project": "kitchen", "names": ["ann"]},
            {"project": "ref", "names": "strlist"},
        ),
        (
            "reviews",
            "judge",
            "rita",
            {"annotation_id": ra, "decision": "pass"},
            {"annotation_id": "id", "decision": "choice", "comment": "text", "range_ns": "range"},
        ),
        ("reviews", "task_reviews", "ada", {"task": r}, {"task": "id"}),
        ("reviews", "verdicts", "ada", {"task": r}, {"task": "id", "round": "int"}),
        (
            "reviews",
            "draw_sample",
            "rita",
            {"task": r, "count": 1},
            {"task": "id", "count": "optint", "seed": "seed"},
        ),
        ("reviews", "draw_sample", "rita", {"task": r}, {"percent": "percent"}),
        ("reviews", "current_sample", "ada", {"task": r}, {"task": "id"}),
        ("reviews", "changes_since_last_round", "ada", {"task": r}, {"task": "id"}),
        ("skills", "get", "ada", {"skill": "pick"}, {"skill": "ref"}),
        (
            "skills",
            "create",
            "ada",
            {"name": "wipe"},
            {"name": "name", "category": "optname", "description": "text", "tags": "strlist"},
        ),
        (
            "skills",
            "edit",
            "ada",
            {"skill": "pick", "description": "ok"},
            {
                "skill": "ref",
                "name": "name",
                "category": "optname",
                "description": "text",
                "tags": "strlist",
            },
        ),
        (
            "dictionaries",
            "create",
            "ada",
            {"name": "colours", "entries": ["red"]},
            {"name": "name", "entries": "strlist", "kind": "name"},
        ),
        ("dictionaries", "check_labels", "ada", {"labels": ["cup"]}, {"labels": "strlist"}),
        (
            "dictionaries",
            "edit",
            "ada",
            {"dictionary": "objects", "entries": ["cup"]},
            {"dictionary": "ref", "entries": "strlist", "description": "text", "kind": "name"},
        ),
        (
            "dictionaries",
            "use_in_project",
            "ada",
            {"project": "kitchen", "dictionaries": []},
            {"project": "ref", "dictionaries": "strlist"},
        ),
        ("skills", "reorder", "ada", {"order": ["pick"]}, {"order": "strlist"}),
        ("skills", "deprecate", "ada", {"skill": "pick"}, {"skill": "ref", "note": "text"}),
        (
            "guidelines",
            "write",
            "ada",
            {"body": "Close, then lift.", "skill": "pick"},
            {"body": "text", "skill": "ref"},
        ),
        (
            "projects",
            "edit",
            "ada",
            {"project": "kitchen", "description": "ok"},
            {"project": "ref", "name": "name", "description": "text"},
        ),
        ("projects", "archive", "ada", {"project": "kitchen"}, {"project": "ref", "note": "text"}),
        (
            "storage",
            "create",
            "ada",
            {"name": "shelf", "kind": "local", "options": {"root": "/tmp"}},
            {"name": "name"},
        ),
        (
            "task_queries",
            "list_tasks",
            "ada",
            {},
            {
                "status": "choice",
                "project": "ref",
                "assignee": "name",
                "search": "search",
                "sort": "sort",
                "page": "int",
                "page_size": "int",
            },
        ),
        (
            "task_queries",
            "matching_ids",
            "ada",
            {},
            {"status": "choice", "project": "ref", "assignee": "name", "search": "search"},
        ),
        (
            "task_queries",
            "board",
            "ada",
            {},
            {
                "project": "ref",
                "assignee": "name",
                "search": "search",
                "per_status": "int",
                "sort": "sort",
            },
        ),
        ("tasks", "get", "ada", {"task": t}, {"task": "ref"}),
        ("tasks", "resolve", "ada", {"refs": [t]}, {"refs": "idlist"}),
        ("tasks", "active_tasks_for", "ada", {"dataset_ids": [d]}, {"dataset_ids": "idlist"}),
        (
            "tasks",
            "create",
            "maya",
            {"name": "new task", "datasets": [d]},
            {
                "name": "name",
                "datasets": "idlist",
                "annotators": "strlist",
                "reviewers": "strlist",
                "project": "ref",
                "description": "text",
                "deadline": "deadline",
                "allow_reassign": "bool",
            },
        ),
        (
            "tasks",
            "assign",
            "maya",
            {"tasks": t, "annotators": ["ann"]},
            {"tasks": "ref", "annotators": "strlist", "reviewers": "strlist"},
        ),
        (
            "tasks",
            "edit",
            "maya",
            {"tasks": t, "description": "ok"},
            {
                "tasks": "ref",
                "name": "name",
                "description": "text",
                "deadline": "deadline",
                "project": "ref",
                "expected_version": "optint",
            },
        ),
        (
            "tasks",
            "set_datasets",
            "maya",
            {"task": t, "add": [w["spare_dataset"]]},
            {"task": "ref", "add": "idlist", "remove": "idlist"},
        ),
        (
            "tasks",
            "delete",
            "maya",
            {"tasks": t, "confirm": True},
            {"tasks": "ref", "confirm": "bool"},
        ),
        (
            "tasks",
            "transition",
            "ann",
            {"task": t, "action": "submit"},
            {"task": "ref", "action": "choice", "comment": "text", "expected_version": "optint"},
        ),
        ("tasks", "submit", "ann", {"task": t}, {"task": "ref"}),
        (
            "tasks",
            "approve",
            "rita",
            {"task": r},
            {"task": "ref", "comment": "text", "expected_version": "optint"},
        ),
        (
            "tasks",
            "reject",
            "rita",
            {"task": r, "comment": "redo", "dataset": w["review_dataset"], "range_ns": (0, SECOND)},
            {"task": "ref", "comment": "text", "dataset": "id", "range_ns": "range"},
        ),
        ("tasks", "allowed_actions", "ann", {"task": t}, {"task": "ref"}),
        ("tasks", "task_dataset_ids", "ada", {"task": t}, {"task": "ref"}),
        ("tasks", "permissions", "ann", {"task": t}, {"task": "ref"}),
        ("users", "get", "ada", {"name": "ann"}, {"name": "name"}),
        ("users", "get_many", "ada", {"names": ["ann"]}, {"names": "strlist"}),
        (
            "users",
            "create",
            "ada",
            {"name": "zed", "role": "annotator"},
            {"name": "name", "role": "choice", "display_name": "optname"},
        ),
        (
            "users",
            "set_status",
            "ada",
            {"name": "ann2", "status": "disabled"},
            {"name": "name", "status": "choice"},
        ),
        (
            "users",
            "set_role",
            "ada",
            {"name": "ann2", "role": "reviewer"},
            {"name": "name", "role": "choice"},
        ),
        ("exports", "list_exports", "ada", {}, {"limit": "int"}),
        ("exports", "get_export", "ada", {"export_id": 1}, {"export_id": "id"}),
        ("exports", "diff", "ada", {"old": 1, "new": 1}, {"old": "id", "new": "id"}),
    ]


def _world(team) -> dict[str, Any]:
    maya = team["maya"]
    maya.projects.create("kitchen")
    maya.skills.create("pick", category="grasping")
    maya.dictionaries.create("objects", ["cup", "bowl"])
    task = team.task("in_progress", n_datasets=2)
    dataset = maya.tasks.task_dataset_ids(task.id)[0]
    annotation = team["ann"].annotations.add(
        task.id, dataset, start_ns=0, end_ns=SECOND, skill="pick", labels=["cup"]
    )
    review = team.task("in_progress", n_datasets=1)
    review_dataset = maya.tasks.task_dataset_ids(review.id)[0]
    judged = team["ann"].annotations.add(review.id, review_dataset, start_ns=0, end_ns=SECOND)
    team["ann"].tasks.submit(review.id)
    return {
        "task": task.id,
        "dataset": dataset,
        "annotation": annotation.id,
        "version": annotation.version,
        "review_task": review.id,
        "review_dataset": review_dataset,
        "review_annotation": judged.id,
        "spare_dataset": team.new_datasets_now(1)[0],
    }


def _fingerprint(ws: ak.Workspace) -> str:
    digest = hashlib.sha256()
    with ws.transaction(write=False) as session:
        for table in Base.metadata.sorted_tables:
            for row in sorted(map(repr, session.execute(select(table)))):
                digest.update(row.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _call(team, spec, param: str, value: Any) -> str:
    """Call one service with one bad value; the outcome, or a description of what went wrong."""
    module, name, who, base, _kinds = spec
    ws = team[who]
    kwargs = dict(base)
    if param == "changes":
        kwargs.update(value)
    else:
        kwargs[param] = value
    before = _fingerprint(team["ada"])
    services = getattr(ws, module)
    try:
        getattr(services, name)(**kwargs)
    except ak.AnnotationKitError:
        outcome = "refused"
    except Exception as exc:
        outcome = f"raw {type(exc).__name__}: {str(exc)[:160]}"
    else:
        outcome = "accepted"
    if _fingerprint(team["ada"]) != before:
        return f"wrote ({outcome})"
    if outcome == "accepted" and not _reads_only(services, name):
        return "accepted"
    return "ok" if outcome in ("refused", "accepted") else outcome


def _reads_only(services, name: str) -> bool:
    return is_readonly(services._functions[name])


def _safe_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 40 else f"{text[:30]}...({len(text)})"


@pytest.fixture(scope="module")
def world(module_team):
    return module_team, _world(module_team)


def _matrix() -> list[tuple[int, str, int]]:
    ids = dict.fromkeys(("task", "dataset", "annotation", "version", "review_task"), 1)
    placeholder = ids | {"review_dataset": 1, "review_annotation": 1, "spare_dataset": 1}
    cases = []
    for i, spec in enumerate(_services(placeholder)):
        for param, kind in spec[4].items():
            cases.extend((i, param, j) for j in range(len(KINDS[kind])))
    return cases


MATRIX = _matrix()


@pytest.mark.parametrize(
    ("spec_index", "param", "value_index"),
    MATRIX,
    ids=[f"{i}-{p}-{j}" for i, p, j in MATRIX],
)
def test_every_bad_value_is_refused_and_writes_nothing(world, spec_index, param, value_index):
    team, w = world
    spec = _services(w)[spec_index]
    value = KINDS[spec[4][param]][value_index]
    outcome = _call(team, spec, param, value)
    assert outcome == "ok", f"{spec[0]}.{spec[1]}({param}={_safe_repr(value)}): {outcome}"


# -- Hypothesis: the same kinds as strategies ------------------------------------------------------
def _nasty_text(min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(min_size=min_size).map(lambda s: s + "\x00" + s)


STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "text": _nasty_text() | st.text(max_size=5).map(lambda s: s + "x" * 20_001) | st.integers(),
    "optname": _nasty_text(1) | st.text(max_size=5).map(lambda s: s + "x" * 201),
    "optint": st.integers(min_value=HUGE) | st.text() | st.floats(allow_nan=True),
    "seed": st.integers(min_value=HUGE) | st.text() | st.floats(allow_nan=True),
    "name": _nasty_text()
    | st.text(alphabet=" \t\n", max_size=5)
    | st.text(max_size=5).map(lambda s: s + "x" * 201)
    | st.floats(),
    "ref": st.integers(min_value=HUGE) | st.integers(max_value=-HUGE - 1) | _nasty_text(1),
    "id": st.integers(min_value=HUGE) | st.integers(max_value=-HUGE - 1) | st.text() | st.floats(),
    "int": st.integers(min_value=HUGE) | st.text() | st.floats(allow_nan=True),
    "ns": st.integers(min_value=HUGE) | st.integers(max_value=-1) | st.text() | st.floats(),
    "deadline": st.datetimes(timezones=st.none()) | st.dates().map(str) | st.integers(),
    "json": st.dictionaries(
        st.text(max_size=3), st.floats(allow_nan=True).filter(math.isnan), min_size=1
    )
    | st.dictionaries(st.text(max_size=3), _nasty_text(), min_size=1)
    | st.dictionaries(st.text(max_size=3), st.integers(min_value=2**64), min_size=1),
    "jsonlist": st.lists(
        st.dictionaries(st.text(max_size=3), _nasty_text(), min_size=1), min_size=1, max_size=2
    ),
    "strlist": st.lists(_nasty_text(), min_size=1, max_size=3)
    | st.lists(st.integers(), min_size=1, max_size=3)
    | st.text(min_size=1),
    "idlist": st.lists(st.integers(min_value=HUGE), min_size=1, max_size=3)
    | st.lists(st.text(), min_size=1, max_size=3),
    "search": _nasty_text() | st.integers(),
    "bool": st.text() | st.integers(min_value=2),
    "range": st.tuples(st.integers(min_value=HUGE), st.integers())
    | st.tuples(st.integers(min_value=1), st.just(0)),
    "percent": st.floats().filter(lambda f: not 0 < f <= 100),
    "choice": st.text().filter(lambda s: s not in ("pass", "human", "mcap")) | st.integers(),
    "sort": st.text(min_size=1).filter(lambda s: s.lstrip("-") not in ("name", "created_at")),
    "rules": st.sampled_from(RULES_BAD),
    "changes": st.sampled_from(CHANGES_BAD),
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_hypothesis_finds_no_raw_error_and_no_silent_write(world, data):
    team, w = world
    spec = data.draw(st.sampled_from(_services(w)), label="service")
    param = data.draw(st.sampled_from(sorted(spec[4])), label="parameter")
    value = data.draw(STRATEGIES[spec[4][param]], label="value")
    outcome = _call(team, spec, param, value)
    assert outcome == "ok", f"{spec[0]}.{spec[1]}({param}={_safe_repr(value)}): {outcome}"


def _residue(team, w, tmp: str) -> dict[str, Any]:
    """Entry points outside the service modules (the export, imports, list filters, CSV
    imports, the queue's clean-up) with one bad value each: what an outside attack found."""
    from datetime import timedelta

    from annotation_kit.data import dataset_queries

    maya, ada, task = team["maya"], team["ada"], w["task"]

    def listed(**filters: Any) -> Any:
        with maya.transaction(write=False) as session:
            return dataset_queries.list_datasets(session, by=maya.me(session), **filters)

    def export(destination: Any = None, **kwargs: Any) -> Any:
        where = f"{tmp}/out" if destination is None else destination
        return maya.export(task, kwargs.pop("fmt", "json"), where, any_status=True, **kwargs)

    return {
        "filter format NUL": lambda: listed(format="a\x00"),
        "filter min_duration_s text": lambda: listed(min_duration_s="abc"),
        "filter min_duration_s huge": lambda: listed(min_duration_s=1e300),
        "filter since text": lambda: listed(since="yesterday"),
        "filter tag 1 MB": lambda: listed(tag=MB),
        "filter unknown": lambda: listed(bogus=1),
        "filter project huge": lambda: listed(project=2**64),
        "filter robot list": lambda: listed(robot=["x"]),
        "users CSV int": lambda: ada.users.import_csv(5),
        "users CSV bytes": lambda: ada.users.import_csv(b"username,role\nq,annotator\n"),
        "users CSV 1 MB field": lambda: ada.users.import_csv(f"username,role\n{MB},annotator\n"),
        "skills rename onto another": lambda: maya.skills.edit("pick", name="place"),
        "queue clean text": lambda: ada.queue.clean("1h"),
        "queue clean int": lambda: ada.queue.clean(5),
        "queue clean huge": lambda: ada.queue.clean(timedelta(days=999_999_999)),
        "export destination NUL": lambda: export(f"{tmp}/o\x00x"),
        "export destination int": lambda: export(5),
        "export destination 1 MB": lambda: export(f"{tmp}/{MB}"),
        "export changed_between text": lambda: export(changed_between="2020"),
        "export changed_between naive": lambda: export(
            changed_between=(datetime(2020, 1, 1), None)
        ),
        "export changed_between 3": lambda: export(changed_between=(None, None, None)),
        "export datasets text": lambda: export(datasets="12"),
        "export datasets None": lambda: export(datasets=[None]),
        "export datasets huge": lambda: export(datasets=[2**64]),
        "export release 1 MB": lambda: export(release=MB),
        "export release NUL": lambda: export(release="a\x00"),
        "export rate_hz NaN": lambda: export(fmt="hdf5", options={"rate_hz": math.nan}),
        "export rate_hz text": lambda: export(fmt="hdf5", options={"rate_hz": "5"}),
        "export rate_hz negative": lambda: export(fmt="hdf5", options={"rate_hz": -5}),
        "export rate_hz inf lerobot": lambda: export(fmt="lerobot", options={"rate_hz": math.inf}),
        "export rate_hz 2.5 lerobot": lambda: export(fmt="lerobot", options={"rate_hz": 2.5}),
        "export plan_ahead -1": lambda: export(fmt="lerobot", options={"plan_ahead": -1}),
        "export mapping unknown": lambda: export(fmt="hdf5", options={"mapping": {"action": "?"}}),
        "export chunk_s 0": lambda: export(fmt="mcap", options={"chunk_s": 0}),
        "import NUL": lambda: maya.import_datasets("a\x00b", progress=False),
        "import int": lambda: maya.import_datasets(5, progress=False),
        "import 1 MB": lambda: maya.import_datasets(MB, progress=False),
        "register tags NUL": lambda: maya.datasets.register(
            name="r1", source_uri="file:///r1.mcap", format="mcap", duration_ns=1, tags=["a\x00"]
        ),
        "register tags 1 MB": lambda: maya.datasets.register(
            name="r2", source_uri="file:///r2.mcap", format="mcap", duration_ns=1, tags=[MB]
        ),
    }


RESIDUE = [
    "filter format NUL", "filter min_duration_s text", "filter min_duration_s huge",
    "filter since text", "filter tag 1 MB", "filter unknown", "filter project huge",
    "filter robot list", "users CSV int", "users CSV bytes", "users CSV 1 MB field",
    "skills rename onto another", "queue clean text", "queue clean int", "queue clean huge",
    "export destination NUL", "export destination int", "export destination 1 MB",
    "export changed_between text", "export changed_between naive", "export changed_between 3",
    "export datasets text", "export datasets None", "export datasets huge",
    "export release 1 MB", "export release NUL", "export rate_hz NaN", "export rate_hz text",
    "export rate_hz negative", "export rate_hz inf lerobot", "export rate_hz 2.5 lerobot",
    "export plan_ahead -1", "export mapping unknown", "export chunk_s 0", "import NUL",
    "import int", "import 1 MB", "register tags NUL", "register tags 1 MB",
]  # fmt: skip


@pytest.mark.parametrize("case", RESIDUE)
def test_the_last_residue_is_refused_and_writes_nothing(world, tmp_path, case):
    """Each is refused with one of our errors (never a raw exception, never half a record);
    the filters of a list may instead find nothing."""
    team, w = world
    if "place" not in [s.name for s in team["maya"].skills.list_skills()]:
        team["maya"].skills.create("place")
    call = _residue(team, w, str(tmp_path))[case]
    before = _fingerprint(team["ada"])
    try:
        call()
    except ak.AnnotationKitError:
        outcome = "refused"
    except Exception as exc:
        outcome = f"raw {type(exc).__name__}: {str(exc)[:200]}"
    else:
        outcome = "accepted" if not case.startswith("filter") else "refused"
    assert outcome == "refused", f"{case}: {outcome}"
    assert _fingerprint(team["ada"]) == before, f"{case} wrote something"
    assert not (tmp_path / "out").exists()
