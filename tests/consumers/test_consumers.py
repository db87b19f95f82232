"""The consumer suite: exports of the shared samples and of generated episodes, loaded by the
programs that train on them — lerobot 0.6.1, 0.4.4 and 0.3.3 (``LeRobotDataset``, item by
item, ``render_sample``), robomimic's ``SequenceDataset`` with its default config — and looked
at by lerobot-doctor beside a dataset lerobot itself wrote with the same content.

One workspace (SQLite; the store is not what is under test here) holds every source; each test
exports one target and hands the folder to its consumer."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import annotation_kit as ak
from annotation_kit.data import synthetic
from annotation_kit.work.tasks import DatasetsInActiveTask
from tests.conftest import SAMPLE_DATA
from tests.consumers import LR_HOME, lerobot_items, lerobot_loads, run

SECOND = 1_000_000_000
GAP = "idle"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Three generated MCAP episodes with two cameras and overlapping, nested, episode-level and
    invalid annotations; the lerobot-written v3.0 sample; five G1 episodes (v2.1); robomimic."""
    root = tmp_path_factory.mktemp("consumers")
    ws = ak.connect(f"sqlite:///{root / 'workspace.db'}", user="ada")
    ws.users.create("ann", "annotator")
    for skill in ("reach", "grasp", "lift", "place"):
        ws.skills.create(skill)
    files = [
        synthetic.write_mcap(
            root / f"src/ep{i}.mcap", duration_s=3 + i, seed=i, cameras=("wrist", "front")
        )
        for i in range(3)
    ]
    generated = ws.import_datasets(files, progress=False).dataset_ids
    task = ws.tasks.create(
        "stack", datasets=generated, annotators=["ann"], description="stack the red cube"
    )
    ws.tasks.start(task.id)
    add = ws.annotations.add
    add(task.id, generated[0], start_ns=SECOND // 3, end_ns=2 * SECOND, skill="reach")
    add(task.id, generated[0], start_ns=SECOND, end_ns=SECOND + SECOND // 2, skill="grasp")  # in
    add(task.id, generated[0], start_ns=1_800_000_000, end_ns=2_700_000_000, skill="lift")  # over
    add(task.id, generated[0], description="the cube slips once")  # episode-level
    add(task.id, generated[1], start_ns=0, end_ns=SECOND, skill="reach", description="go to it")
    ws.annotations.mark_invalid(
        task.id, generated[1], "occluded", start_ns=SECOND, end_ns=2 * SECOND
    )
    add(task.id, generated[1], start_ns=2 * SECOND, end_ns=3_500_000_000, skill="place")
    # generated[2]: nothing but a valid verdict
    add(task.id, generated[2], description="")
    lerobot = ws.import_datasets(
        SAMPLE_DATA / "lerobot/synthetic_v30_image", progress=False
    ).dataset_ids
    sample = ws.tasks.create("sample", datasets=lerobot, annotators=["ann"])
    ws.tasks.start(sample.id)
    add(sample.id, lerobot[2], start_ns=100_000_000, end_ns=400_000_000, skill="grasp")
    g1 = ws.import_datasets(SAMPLE_DATA / "lerobot/g1_v21", progress=False).dataset_ids
    g1_task = ws.tasks.create("g1", datasets=g1[:5], annotators=["ann"])
    robomimic = ws.import_datasets(
        SAMPLE_DATA / "hdf5/robomimic_0.5.0_low_dim.hdf5", progress=False
    ).dataset_ids
    rm_task = ws.tasks.create("robomimic", datasets=robomimic, annotators=["ann"])
    ws.tasks.start(rm_task.id)
    add(rm_task.id, robomimic[0], start_ns=0, end_ns=SECOND // 2, description="lift")
    aloha_file = synthetic.write_aloha_hdf5(
        root / "src/aloha/episode_0.hdf5", duration_s=2, fps=50, cameras=("top",)
    )
    aloha = ws.import_datasets(aloha_file, progress=False).dataset_ids
    aloha_task = ws.tasks.create("aloha", datasets=aloha, annotators=["ann"])
    return (
        ws,
        root,
        {
            "generated": task.id,
            "sample": sample.id,
            "g1": g1_task.id,
            "robomimic": rm_task.id,
            "aloha": aloha_task.id,
        },
    )


def export(workspace, task: str, name: str, fmt: str = "lerobot", **options) -> Path:
    ws, root, tasks = workspace
    ws.export(tasks[task], fmt, root / name, any_status=True, options=options)
    return root / name


def expected(workspace, task: str, folder: Path) -> list[dict]:
    """What each LeRobot episode should say, stated from the annotations (not from the writer):
    its task, and per frame the valid segment that started last among those covering the
    frame's time (from its start to before its end; the last frame too when the segment reaches
    it), ``idle`` where none does."""
    ws, _root, tasks = workspace
    info = json.loads((folder / "meta/info.json").read_text())
    fps = info["fps"]
    if info["codebase_version"] == "v3.0":
        rows = pd.read_parquet(folder / "meta/episodes/chunk-000/file-000.parquet")
        lengths, names = list(rows["length"]), [list(t) for t in rows["tasks"]]
    else:
        rows = [json.loads(line) for line in (folder / "meta/episodes.jsonl").open()]
        lengths, names = [r["length"] for r in rows], [r["tasks"] for r in rows]
    task = ws.tasks.get(tasks[task])
    datasets = sorted(ws.tasks.task_dataset_ids(task.id))
    segments = {
        d: [
            a
            for a in ws.annotations.list_annotations(task.id, dataset=d)
            if a.start_ns is not None and a.valid
        ]
        for d in datasets
    }
    labelled = any(segments.values())
    out = []
    for number, dataset in enumerate(datasets):
        source = (ws.datasets.get(dataset).meta.get("tasks") or [None])[0]
        assert names[number] == [source or task.description or task.name]
        subtasks = []
        for frame in range(lengths[number]):
            t = round(frame * SECOND / fps)
            last = frame == lengths[number] - 1  # a segment reaching the end covers it too
            covering = [
                a
                for a in segments[dataset]
                if a.start_ns <= t < a.end_ns or (last and a.start_ns <= t <= a.end_ns)
            ]
            if covering:
                a = max(covering, key=lambda a: (a.start_ns, -a.end_ns, a.id))
                subtasks.append(a.description or ws.skills.get(a.skill_id).name)
            else:
                subtasks.append(GAP if labelled else None)
        out.append({"task": names[number][0], "subtasks": subtasks})
    return out


LEROBOT_TARGETS = [  # (name, options, the lerobot versions that must load it)
    ("v30-video", {}, ["0.6.1"]),
    ("v30-images", {"cameras": "images"}, ["0.6.1"]),
    ("v30-h264", {"codec": "h264"}, ["0.6.1"]),
    ("v30-nolang-video", {"language": False}, ["0.4.4", "0.6.1"]),
    ("v30-nolang-images", {"language": False, "cameras": "images"}, ["0.4.4", "0.6.1"]),
    ("v21-video", {"version": "v2.1"}, ["0.3.3"]),
    ("v21-images", {"version": "v2.1", "cameras": "images"}, ["0.3.3"]),
]


@pytest.mark.parametrize(("name", "options", "versions"), LEROBOT_TARGETS)
def test_generated_episodes_load_in_lerobot_frame_by_frame(workspace, name, options, versions):
    """Overlapping and nested segments, an episode-level description, an invalid mark; two
    cameras as video (AV1 or H.264) or as images."""
    folder = export(workspace, "generated", f"generated-{name}", rate_hz=15, **options)
    episodes = expected(workspace, "generated", folder)
    assert {s for e in episodes for s in e["subtasks"]} == {
        GAP,
        "reach",
        "grasp",
        "lift",
        "go to it",
        "place",
    }
    for version in versions:
        lerobot_loads(folder, version)
        lerobot_items(folder, episodes, version)


@pytest.mark.parametrize(("name", "options", "versions"), LEROBOT_TARGETS[:2] + LEROBOT_TARGETS[3:])
def test_samples_other_tools_wrote_load_in_lerobot(workspace, name, options, versions):
    """lerobot's own v3.0 sample (its tasks kept per episode), G1 episodes from v2.1 (every
    source frame kept), robomimic demos."""
    for task in ("sample", "g1", "robomimic"):
        folder = export(workspace, task, f"{task}-{name}", **({"rate_hz": 10} | options))
        episodes = expected(workspace, task, folder)
        for version in versions:
            lerobot_loads(folder, version)
            lerobot_items(folder, episodes, version)


def test_g1_keeps_every_source_frame(workspace):
    folder = export(workspace, "g1", "g1-30", rate_hz=30, cameras="none")
    rows = pd.read_parquet(folder / "meta/episodes/chunk-000/file-000.parquet")
    source = [
        json.loads(line) for line in (SAMPLE_DATA / "lerobot/g1_v21/meta/episodes.jsonl").open()
    ]
    assert list(rows["length"]) == [e["length"] for e in source[:5]]  # 479 frames in episode 0
    data = pd.read_parquet(folder / "data/chunk-000/file-000.parquet")
    first = pd.read_parquet(SAMPLE_DATA / "lerobot/g1_v21/data/chunk-000/episode_000000.parquet")
    exported = np.stack(data[data["episode_index"] == 0]["observation.state"])
    assert np.array_equal(exported, np.stack(first["observation.state"]))
    lerobot_loads(folder, "0.6.1")


def _same_everywhere(source: h5py.Group, out: h5py.Group) -> list[str]:
    """The keys and attributes of ``source`` that ``out`` lacks or holds otherwise."""
    differ = [k for k, v in source.attrs.items() if not np.array_equal(out.attrs.get(k), v)]

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            mine = out.get(name)
            if mine is None or mine.dtype != item.dtype or not np.array_equal(mine[()], item[()]):
                differ.append(name)

    source.visititems(visit)
    return differ


@pytest.mark.parametrize("layout", ["robomimic", "io"])
def test_hdf5_exports_load_in_robomimic_and_import_again(workspace, layout):
    """The robomimic layout of a robomimic source is its source in every key and attribute it
    has (rewards, dones, obs, next_obs, states, model_file; the file's env_args), at its own
    20 Hz, loaded through robomimic's own SequenceDataset; nothing was derived."""
    ws, _root, _tasks = workspace
    folder = export(workspace, "robomimic", f"rm-{layout}", fmt="hdf5", layout=layout)
    [path] = folder.glob("*.hdf5")
    with (
        h5py.File(path) as out,
        h5py.File(SAMPLE_DATA / "hdf5/robomimic_0.5.0_low_dim.hdf5") as src,
    ):
        key = "data/demo_1/actions" if layout == "robomimic" else "data/episode_000/action"
        assert out[key].dtype == src["data/demo_1/actions"].dtype
        assert np.array_equal(out[key][()], src["data/demo_1/actions"][()])
        if layout == "robomimic":
            for demo in ("demo_1", "demo_2", "demo_3"):
                assert _same_everywhere(src[f"data/{demo}"], out[f"data/{demo}"]) == []
            assert src["data/demo_1/rewards"][()].sum() == 4.0
            assert out["data"].attrs["env_args"] == src["data"].attrs["env_args"]
    [record] = ws.exports.list_exports(limit=1)
    assert not [c for c in record.cleaned if "derived" in c or "resampled" in c]
    if layout == "robomimic":
        run("robomimic", "robomimic_check.py", path)
    again = ws.import_datasets(folder, progress=False).dataset_ids
    assert len(again) == 3


def test_a_10_fps_lerobot_source_keeps_its_rate_frames_and_values(workspace):
    """lerobot's own 10 fps sample exported with defaults: 10 fps, the same frames per episode
    and the same values (it became 30 fps with states repeated before)."""
    folder = export(workspace, "sample", "sample-defaults")
    info = json.loads((folder / "meta/info.json").read_text())
    assert info["fps"] == 10
    source = SAMPLE_DATA / "lerobot/synthetic_v30_image"
    rows = pd.read_parquet(folder / "meta/episodes/chunk-000/file-000.parquet")
    assert list(rows["length"]) == [5, 6, 7]
    ours = pd.read_parquet(folder / "data/chunk-000/file-000.parquet")
    theirs = pd.concat(pd.read_parquet(p) for p in sorted((source / "data").rglob("*.parquet")))
    for key in ("observation.state", "action"):
        assert np.array_equal(np.stack(ours[key]), np.stack(theirs[key]))
    lerobot_loads(folder, "0.6.1")


def test_a_50_hz_aloha_episode_keeps_every_sample(workspace):
    """An ALOHA episode at 50 Hz exported with defaults keeps its 100 samples and their values,
    to LeRobot (video at 50 fps, loaded by lerobot 0.6.1) and to HDF5."""
    _ws, root, _tasks = workspace
    with h5py.File(root / "src/aloha/episode_0.hdf5") as f:
        qpos, action = f["observations/qpos"][()], f["action"][()]
    folder = export(workspace, "aloha", "aloha-lerobot")
    info = json.loads((folder / "meta/info.json").read_text())
    assert info["fps"] == 50 and info["total_frames"] == len(qpos) == 100
    data = pd.read_parquet(folder / "data/chunk-000/file-000.parquet")
    assert np.array_equal(np.stack(data["observation.state"]), qpos.astype(np.float32))
    assert np.array_equal(np.stack(data["action"]), action.astype(np.float32))
    lerobot_loads(folder, "0.6.1")
    out = export(workspace, "aloha", "aloha-hdf5", fmt="hdf5")
    with h5py.File(next(out.glob("*.hdf5"))) as f:
        assert f["data/episode_000"].attrs["fps"] == 50
        assert np.array_equal(f["data/episode_000/observation.state"][()], qpos)


def test_a_task_pass_covers_annotations_nobody_judged(workspace):
    ws, _root, tasks = workspace
    datasets = ws.tasks.task_dataset_ids(tasks["robomimic"])
    ws.users.create("rita", "reviewer")
    task = ws.tasks.create("passed", datasets=datasets, annotators=["ann"], reviewers=["rita"]).id
    ws.tasks.start(task)
    for dataset in datasets:
        ws.annotations.add(task, dataset, start_ns=0, end_ns=SECOND // 4, skill="reach")
    ws.tasks.submit(task)
    ws.as_user("rita").tasks.approve(task)  # without judging any annotation
    tasks["passed"] = task
    folder = export(workspace, "passed", "rm-passed", fmt="hdf5")
    with h5py.File(next(folder.glob("*.hdf5"))) as out:
        for number in range(3):
            group = out[f"data/episode_{number:03d}"]
            records = json.loads(group["annotations"].attrs["records"])
            assert group.attrs["score"] == 1.0
            assert {(r["review_verdict"], r["review_round"]) for r in records} == {("pass", 1)}


def _findings(folder: Path) -> set[tuple[str, str]]:
    done = subprocess.run(
        [str(LR_HOME / "doctor/bin/lerobot-doctor"), "check", str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    return {
        (check["name"], re.sub(r"\d+(\.\d+)?", "#", message["message"]))
        for check in report["checks"]
        for message in check["messages"]
        if message["severity"] != "PASS"
    }


def test_lerobot_doctor_finds_nothing_it_does_not_find_on_lerobots_own_output(workspace):
    """lerobot 0.6.1 writes the same frames (its ``LeRobotDataset.create`` / ``add_frame``,
    language columns through its annotation writer); lerobot-doctor may say no more about ours."""
    _ws, root, _tasks = workspace
    ours = export(workspace, "generated", "doctor-ours", rate_hz=15)
    theirs = root / "doctor-lerobot"
    run("v06", "lerobot_rewrite.py", ours, theirs)
    extra = _findings(ours) - _findings(theirs)
    assert not extra, extra


def test_a_lerobot_sources_other_features_are_carried(tmp_path):
    """An RL-style LeRobot source (next.reward, next.done, observation.velocity besides state
    and action) exported to LeRobot with defaults: every feature with its dtype, shape and
    values, at its own 10 fps; loaded by lerobot 0.6.1. An episode lacking one is named."""
    source = synthetic.write_lerobot_v30(
        tmp_path / "rl", episodes=3, frames=25, fps=10, rewards=True
    )
    ws = ak.connect(f"sqlite:///{tmp_path / 'ws.db'}", user="ada")
    ws.users.create("ann", "annotator")
    ids = ws.import_datasets(source, progress=False).dataset_ids
    task = ws.tasks.create("rl", datasets=ids, annotators=["ann"]).id
    record = ws.export(task, "lerobot", tmp_path / "out", any_status=True)
    assert [c for c in record.cleaned if "carried" in c or "resampled" in c] == []
    theirs = json.loads((source / "meta/info.json").read_text())["features"]
    ours = json.loads((tmp_path / "out/meta/info.json").read_text())["features"]
    for key in ("next.reward", "next.done", "observation.velocity"):
        assert (ours[key]["dtype"], ours[key]["shape"]) == (
            theirs[key]["dtype"],
            theirs[key]["shape"],
        )
    exported = pd.read_parquet(tmp_path / "out/data/chunk-000/file-000.parquet")
    original = pd.read_parquet(source / "data/chunk-000/file-000.parquet")
    for key in ("next.reward", "next.done", "observation.velocity", "observation.state"):
        mine, theirs_ = exported[key].to_numpy(), original[key].to_numpy()
        if mine.dtype == object:
            mine, theirs_ = np.stack(mine), np.stack(theirs_)
        assert mine.dtype == theirs_.dtype and np.array_equal(mine, theirs_), key
    lerobot_loads(tmp_path / "out", "0.6.1")
    plain = synthetic.write_lerobot_v30(tmp_path / "plain", episodes=1, frames=25, fps=10)
    more = ws.import_datasets(plain, progress=False).dataset_ids
    with pytest.warns(DatasetsInActiveTask):  # the same episodes in a second task: said
        mixed = ws.tasks.create("mixed", datasets=[*ids, *more], annotators=["ann"]).id
    both = ws.export(mixed, "lerobot", tmp_path / "mixed", any_status=True)
    assert "feature next.reward is not carried: not every episode has it (with one dtype)" in (
        both.cleaned
    )
