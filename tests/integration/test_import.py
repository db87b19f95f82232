"""Importing real sample files and generated episodes into SQLite and PostgreSQL workspaces,
from disk and from an S3-compatible server; then reading signals and frames back."""

import uuid

import fsspec
import numpy as np
import pytest
from sqlalchemy import func, select

import annotation_kit as ak
from annotation_kit.data import imports, synthetic
from annotation_kit.store.models import Dataset
from tests.conftest import SAMPLE_DATA

DATA = SAMPLE_DATA
CORRUPT = DATA / "mcap" / "keelson" / "connectors__klog__bin__2024-05-15.CORRUPTED_CRLF.mcap"
SECOND = 1_000_000_000


def count(ws):
    with ws.transaction(write=False) as s:
        return s.scalar(select(func.count(Dataset.id)))


def test_every_sample_imports_and_the_corrupt_one_is_refused(team):
    ws = team["maya"]
    report = ws.import_datasets(
        [DATA / "mcap", DATA / "hdf5", DATA / "lerobot"], tags=["sample"], progress=False
    )
    assert [f.source for f in report.failed] == [CORRUPT.as_uri()]
    assert "invalid magic" in report.failed[0].error
    formats = {}
    for dataset in ws.datasets.list_datasets():
        formats[dataset.format] = formats.get(dataset.format, 0) + 1
    assert formats == {"mcap": 6, "hdf5-robomimic": 3, "lerobot-v2.1": 103, "lerobot-v3.0": 3}
    g1 = ws.datasets.get(f"{(DATA / 'lerobot' / 'g1_v21').as_uri()}#episode=7")
    assert g1.cameras[0]["missing"] is True and g1.tags == ["sample"]
    assert any("episode_000007.mp4 is missing" in p for p in g1.meta["problems"])
    assert "missing" in str(report)
    again = ws.import_datasets(
        [DATA / "hdf5", DATA / "lerobot" / "synthetic_v30_image"], progress=False
    )
    assert sum(len(f.unchanged) for f in again.files) == 6 and count(ws) == 115


def test_corrupt_file_alone_writes_nothing(team):
    report = team["maya"].import_datasets(CORRUPT, progress=False)
    assert len(report.failed) == 1 and count(team["maya"]) == 0
    assert team["maya"].events.history("import") == []


def test_a_failure_while_registering_rolls_back_that_file_only(team, tmp_path, monkeypatch):
    good = synthetic.write_mcap(tmp_path / "good.mcap", duration_s=1, cameras=())
    multi = synthetic.write_io_hdf5(tmp_path / "multi.hdf5", episodes=3, duration_s=1)
    real = imports.planned

    def flaky(session, info, **kwargs):
        if info.source_uri.endswith("episode_002"):
            raise ak.ValidationError("disk quota")
        return real(session, info, **kwargs)

    monkeypatch.setattr(imports, "planned", flaky)
    report = team["maya"].import_datasets([multi, good], progress=False)
    assert [f.ok for f in report.files] == [False, True]
    assert "disk quota" in report.files[0].error
    assert [d.source_uri for d in team["maya"].datasets.list_datasets()] == [good.as_uri()]


def test_only_registrars_may_import_and_bad_paths_are_reported(team, tmp_path):
    with pytest.raises(ak.PermissionDenied, match="vic"):
        team["vic"].import_datasets(DATA / "hdf5", progress=False)
    report = team["col"].import_datasets([tmp_path / "missing.mcap"], progress=False)
    assert "no such file" in report.failed[0].error


def test_episode_access_signals_and_frames(team, tmp_path):
    path = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=20, cameras=("wrist", "front"))
    report = team["maya"].import_datasets(path, progress=False)
    [dataset_id] = report.dataset_ids
    with team["ann"].episode(dataset_id) as episode:
        assert episode.duration_ns == 19_990_000_000
        window = episode.signal("/robot/joint_states", 0, episode.duration_ns, max_points=200)
        assert window.samples == 2000 and len(window.t_ns) == 100 and window.downsampled
        assert "position.gripper" in window.fields
        whole = episode.signal("/robot/joint_states", 5 * SECOND, 6 * SECOND, max_points=500)
        assert whole.samples == 101 and not whole.downsampled
        truth = synthetic.Scene(0).joints(whole.t_ns / 1e9)
        column = whole.fields.index("position.joint3")
        np.testing.assert_allclose(whole.low[:, column], truth[:, 2])
        frame = episode.frame("/camera/wrist/image/compressed", 10 * SECOND + 20_000_000)
        assert frame.mime == "image/jpeg" and frame.t_ns == 10 * SECOND
        assert episode.frame("/camera/wrist/image/compressed", 10 * SECOND) is frame  # cached
        sheet = episode.contact_sheet(count=4, width=80)
        assert sheet[:2] == b"\xff\xd8"
        with pytest.raises(ak.AnnotationKitError, match="no camera stream '/nope'"):
            episode.frame("/nope", 0)


def test_envelope_keeps_a_one_sample_spike(team, tmp_path):
    import h5py

    path = synthetic.write_aloha_hdf5(tmp_path / "episode_1.hdf5", duration_s=40, cameras=())
    with h5py.File(path, "a") as f:
        f["observations/qpos"][1234, 0] = 99.0
    [dataset_id] = team["maya"].import_datasets(path, progress=False).dataset_ids
    with team["maya"].episode(dataset_id) as episode:
        window = episode.signal("observations/qpos", max_points=50)
    assert len(window.t_ns) == 25 and window.high[:, 0].max() == 99.0


def test_imported_language_becomes_import_annotations_of_a_new_task(team):
    report = team["maya"].import_datasets(DATA / "lerobot" / "synthetic_v30_image", progress=False)
    task = team["maya"].tasks.create(
        "from lerobot", datasets=report.dataset_ids[:2], annotators=["ann"]
    )
    found = team["maya"].annotations.list_annotations(task.id)
    assert [(a.description, a.provenance, a.start_ns, a.end_ns) for a in found] == [
        ("pick cube", "import", 0, 400_000_000),
        ("place cube", "import", 0, 500_000_000),
    ]


def test_data_checks_on_import_and_override(team, tmp_path):
    maya = team["maya"]
    maya.projects.create("lab")
    with pytest.raises(ak.ValidationError, match="rule 1: unknown kind 'vibes'; kind must be"):
        maya.checks.set_rules("lab", [{"kind": "vibes"}])
    maya.checks.set_rules(
        "lab",
        [
            {"kind": "min_rate", "streams": "/camera/*", "hz": 20},
            {"kind": "forbidden", "streams": ["/debug/*"]},
            {"kind": "duration", "min_s": 3, "severity": "warning"},
        ],
    )
    fast = synthetic.write_mcap(tmp_path / "fast.mcap", duration_s=4, fps=30, cameras=("a",))
    slow = synthetic.write_mcap(tmp_path / "slow.mcap", duration_s=4, fps=10, cameras=("a",))
    short = synthetic.write_mcap(tmp_path / "short.mcap", duration_s=2, fps=30, cameras=("a",))
    ids = maya.import_datasets([fast, slow, short], project="lab", progress=False).dataset_ids
    statuses = [maya.datasets.get(i).qc_status for i in ids]
    assert statuses == ["pass", "error", "warning"]
    failed = maya.datasets.get(ids[1]).qc_results
    assert "below 20 Hz: /camera/a/image/compressed 10" in failed[0]["message"]
    assert maya.checks.with_status("error") == [ids[1]]
    with pytest.raises(ak.NotFound):  # not a dataset she sees; nor hers to override
        team["ann"].checks.override(ids[1], "fine by me")
    maya.checks.override(ids[1], "camera rate accepted for this batch")
    assert maya.datasets.get(ids[1]).qc_status == "overridden"
    maya.checks.run(ids)
    assert maya.datasets.get(ids[1]).qc_status == "overridden"


def test_import_from_s3_and_read_lazily(team, s3_endpoint, tmp_path):
    bucket = f"robots-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(bucket)
    mcap_file = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=3, cameras=("wrist",))
    hdf5_file = synthetic.write_aloha_hdf5(tmp_path / "episode_0.hdf5", duration_s=1)
    lerobot = synthetic.write_lerobot_v30(tmp_path / "lr", episodes=2, frames=20)
    fs.put(str(mcap_file), f"{bucket}/run/ep.mcap")
    fs.put(str(hdf5_file), f"{bucket}/run/episode_0.hdf5")
    fs.put(str(lerobot), f"{bucket}/run/lr", recursive=True)
    report = team["maya"].import_datasets(f"s3://{bucket}/run", progress=False)
    assert not report.failed, str(report)
    uris = sorted(d.source_uri for d in team["maya"].datasets.list_datasets())
    assert uris == sorted(
        [
            f"s3://{bucket}/run/ep.mcap",
            f"s3://{bucket}/run/episode_0.hdf5",
            f"s3://{bucket}/run/lr#episode=0",
            f"s3://{bucket}/run/lr#episode=1",
        ]
    )
    by_uri = {d.source_uri: d.id for d in team["maya"].datasets.list_datasets()}
    for stored in team["maya"].datasets.list_datasets():
        assert "testing" not in repr(stored.meta) and "AWS" not in repr(stored.meta)
    with team["maya"].episode(by_uri[f"s3://{bucket}/run/ep.mcap"]) as episode:
        assert episode.frame("/camera/wrist/image/compressed", SECOND).mime == "image/jpeg"
        assert episode.signal("/robot/joint_cmd", max_points=10).samples == 300
    with team["maya"].episode(by_uri[f"s3://{bucket}/run/lr#episode=1"]) as episode:
        assert episode.signal("observation.state").low.shape == (20, 8)
    with team["maya"].episode(by_uri[f"s3://{bucket}/run/episode_0.hdf5"]) as episode:
        assert episode.frame("observations/images/top", 0).data[:2] == b"\xff\xd8"


def test_import_command(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'ws.db'}"
    ak.connect(url, user="ada")
    path = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=1, cameras=())
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "annotation_kit.cli",
            "import",
            str(path),
            "--url",
            url,
            "--user",
            "ada",
            "--tag",
            "cli",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "1 dataset(s) created" in ok.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "annotation_kit.cli",
            "import",
            str(CORRUPT),
            "--url",
            url,
            "--user",
            "ada",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "invalid magic" in bad.stdout
