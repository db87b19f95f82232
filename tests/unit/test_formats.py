"""Format readers on the sample files other tools wrote: what they index and what they decode,
checked against each format's own reader. No database here."""

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest
from mcap.reader import make_reader
from mcap.writer import IndexType
from mcap.writer import Writer as McapWriter
from mcap_ros2.decoder import DecoderFactory

from annotation_kit.data import synthetic
from annotation_kit.formats import FormatError, open_reader, scan
from tests.conftest import SAMPLE_DATA

DATA = SAMPLE_DATA
ROSBAG = DATA / "mcap" / "rosbag2"
CDR = ROSBAG / "rosbag2_tests__resources__mcap__cdr_test__cdr_test_0.mcap"
CORRUPT = DATA / "mcap" / "keelson" / "connectors__klog__bin__2024-05-15.CORRUPTED_CRLF.mcap"
ROBOMIMIC = DATA / "hdf5" / "robomimic_0.5.0_low_dim.hdf5"
G1 = DATA / "lerobot" / "g1_v21"


def reader_for(info):
    return open_reader(
        info.source_uri, info.format, {"locator": info.locator, "start_time_ns": info.start_time_ns}
    )


def test_sample_data_is_there():
    assert CDR.exists(), f"sample data missing at {DATA}: set ANNOTATION_KIT_SAMPLE_DATA"
    assert len(sorted(ROSBAG.glob("*.mcap"))) == 5


@pytest.mark.parametrize("path", sorted(ROSBAG.glob("*.mcap")), ids=lambda p: p.name[-40:])
def test_rosbag_files_index_like_the_mcap_summary(path):
    [episode] = scan(path)
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    stats = summary.statistics
    assert episode.duration_ns == stats.message_end_time - stats.message_start_time
    assert episode.start_time_ns == stats.message_start_time
    assert {s.name for s in episode.streams} == {c.topic for c in summary.channels.values()}
    assert sum(s.count for s in episode.streams) == stats.message_count


def test_cdr_values_match_mcap_ros2_decoding():
    [episode] = scan(CDR)
    times, values = reader_for(episode).signal("/test_topic")
    expected = []
    with CDR.open("rb") as stream:
        for _s, _c, message, decoded in make_reader(
            stream, decoder_factories=[DecoderFactory()]
        ).iter_decoded_messages(topics=["/test_topic"]):
            expected.append(
                (
                    message.log_time - episode.start_time_ns,
                    decoded.float64_value,
                    decoded.int32_value,
                )
            )
    reader = reader_for(episode)
    times, values = reader.signal("/test_topic")
    columns = reader.columns
    got = [
        (int(t), row[columns.index("float64_value")], row[columns.index("int32_value")])
        for t, row in zip(times, values, strict=True)
    ]
    assert got == expected


def test_protobuf_file_with_649_channels():
    [episode] = scan(DATA / "mcap" / "keelson" / "test.mcap")
    assert len(episode.streams) == 649
    assert sum(s.count for s in episode.streams) == 2172


def test_corrupt_mcap_is_refused_clearly():
    with pytest.raises(FormatError, match=r"not a readable MCAP file.*invalid magic"):
        scan(CORRUPT)


def test_mcap_without_summary_falls_back_to_a_linear_scan(tmp_path):
    source = synthetic.write_mcap(tmp_path / "a.mcap", duration_s=2, cameras=("wrist",))
    bare = tmp_path / "bare.mcap"
    _copy_mcap(
        source,
        bare,
        use_statistics=False,
        use_summary_offsets=False,
        index_types=IndexType.NONE,
        repeat_channels=False,
        repeat_schemas=False,
    )
    with bare.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is None or summary.statistics is None  # so the scan path is taken
    [indexed], [scanned] = scan(source), scan(bare)
    assert [(s.name, s.count, s.kind) for s in indexed.streams] == [
        (s.name, s.count, s.kind) for s in scanned.streams
    ]
    assert scanned.duration_ns == indexed.duration_ns


def _copy_mcap(source, target, *, start_shift_ns: int = 0, **options) -> None:
    """``source`` written again by the mcap library's own writer (with ``options``); its
    statistics record's message start moved ``start_shift_ns`` later than the first message
    (a writer's bug)."""
    with source.open("rb") as src, target.open("wb") as out:
        writer = McapWriter(out, **options)
        writer.start(profile="ros2", library="test")
        schemas, channels = {}, {}
        for schema, channel, message in make_reader(src).iter_messages():
            if schema.id not in schemas:
                schemas[schema.id] = writer.register_schema(
                    schema.name, schema.encoding, schema.data
                )
            if channel.id not in channels:
                channels[channel.id] = writer.register_channel(
                    channel.topic, channel.message_encoding, schemas[schema.id]
                )
            writer.add_message(
                channels[channel.id], message.log_time, message.data, message.publish_time
            )
        if start_shift_ns:
            writer._Writer__statistics.message_start_time += start_shift_ns
        writer.finish()


def test_an_mcap_whose_statistics_start_late_keeps_its_clock(tmp_path):
    """The summary's statistics say the first message is 0.3 s later than it is: the chunks
    holding the messages know better, and the episode clock and every time stay the source's."""
    source = synthetic.write_mcap(tmp_path / "a.mcap", duration_s=2, cameras=("wrist",))
    late = tmp_path / "late.mcap"
    _copy_mcap(source, late, start_shift_ns=300_000_000)
    with late.open("rb") as stream:
        stats = make_reader(stream).get_summary().statistics
    [good], [odd] = scan(source), scan(late)
    assert stats.message_start_time == good.start_time_ns + 300_000_000  # the forged record
    assert (odd.start_time_ns, odd.duration_ns) == (good.start_time_ns, good.duration_ns)
    reader = reader_for(odd)
    times, values = reader.signal("/robot/joint_states")
    expected_times, expected = reader_for(good).signal("/robot/joint_states")
    assert times[0] == 0 and np.array_equal(times, expected_times)
    assert np.array_equal(values, expected)


def test_truncated_files_are_refused(tmp_path):
    source = synthetic.write_mcap(tmp_path / "a.mcap", duration_s=2, cameras=())
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(FormatError, match=r"cut\.mcap"):
        scan(cut)
    half = tmp_path / "half.hdf5"
    half.write_bytes(ROBOMIMIC.read_bytes()[:4096])
    with pytest.raises(FormatError, match="not a readable HDF5 file"):
        scan(half)


def test_robomimic_demos_and_values():
    episodes = scan(ROBOMIMIC)
    assert [e.name.rsplit("/", 1)[1] for e in episodes] == ["demo_1", "demo_2", "demo_3"]
    first = episodes[0]
    assert first.format == "hdf5-robomimic" and first.source_uri.endswith("#data/demo_1")
    assert first.duration_ns == round(81 * 1e9 / 20)
    names = {s.name for s in first.streams}
    assert {"actions", "obs/robot0_joint_pos", "states"} <= names
    assert not any(n.startswith("next_obs/") for n in names)
    times, values = reader_for(first).signal("obs/robot0_joint_pos")
    with h5py.File(ROBOMIMIC) as f:
        np.testing.assert_array_equal(values, f["data/demo_1/obs/robot0_joint_pos"][()])
    assert times[1] == 50_000_000


def test_unknown_hdf5_layout_lists_what_it_found(tmp_path):
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as f:
        f["sensors/imu"] = np.zeros((10, 6))
        f["video"] = np.zeros(3)
    with pytest.raises(FormatError, match="found top-level keys: sensors, video"):
        scan(path)


def test_aloha_and_io_layouts_from_the_generator(tmp_path):
    [aloha] = scan(synthetic.write_aloha_hdf5(tmp_path / "episode_0.hdf5", duration_s=1))
    cams = {s.name: (s.width, s.height) for s in aloha.cameras}
    assert cams == {"observations/images/top": (96, 72), "observations/images/wrist": (96, 72)}
    frame = reader_for(aloha).frame("observations/images/top", 10)
    assert frame.mime == "image/jpeg" and frame.t_ns == 200_000_000
    io_episodes = scan(synthetic.write_io_hdf5(tmp_path / "io.hdf5", episodes=2))
    assert [e.meta["attrs"]["task"] for e in io_episodes] == ["pick block 0", "pick block 1"]
    assert io_episodes[1].meta["attrs"]["score"] == 0.75


def test_lerobot_v21_with_missing_video_keeps_signals():
    episodes = scan(G1)
    assert len(episodes) == 100
    first = episodes[0]
    camera = first.cameras[0]
    assert camera.missing and "episode_000000.mp4 is missing" in first.problems[0]
    state = next(s for s in first.streams if s.name == "observation.state")
    assert state.fields[:2] == ["kLeftShoulderPitch", "kLeftShoulderRoll"]
    times, values = reader_for(first).signal("observation.state")
    table = pq.read_table(G1 / "data/chunk-000/episode_000000.parquet")
    np.testing.assert_array_equal(
        values,
        np.array(table.column("observation.state").to_pylist(), dtype=np.float32).astype(
            np.float64
        ),
    )
    assert times[-1] == first.duration_ns
    assert [s.description for s in first.segments] == ["Pick up the yellow bottle on the table."]
    with pytest.raises(FormatError, match="missing"):
        reader_for(first).frame(camera.name, 0)


@pytest.mark.parametrize("name", ["synthetic_v21_image", "synthetic_v30_image"])
def test_lerobot_images_in_parquet(name):
    episodes = scan(DATA / "lerobot" / name)
    assert [e.duration_ns for e in episodes] == [400_000_000, 500_000_000, 600_000_000]
    assert [s.description for e in episodes for s in e.segments] == [
        "pick cube",
        "place cube",
        "pick cube",
    ]
    frame = reader_for(episodes[1]).frame("observation.images.cam", 2)
    files = sorted((DATA / "lerobot" / name / "data").rglob("*.parquet"))
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    expected = next(r for r in rows if r["episode_index"] == 1 and r["frame_index"] == 2)
    assert frame.data == expected["observation.images.cam"]["bytes"]
    assert frame.mime == "image/png"


def test_lerobot_language_columns_and_subtasks_become_segments(tmp_path):
    import json

    import pyarrow as pa

    folder = synthetic.write_lerobot_v30(tmp_path / "lr", episodes=1, frames=30, fps=10)
    data = folder / "data/chunk-000/file-000.parquet"
    table = pq.read_table(data)
    atoms = [
        {"role": "assistant", "content": "reach", "style": "subtask", "timestamp": 0.0},
        {"role": "assistant", "content": "grasp", "style": "subtask", "timestamp": 1.5},
    ]
    event = [{"role": "user", "content": "stop!", "style": "interjection"}]  # fires on frame 20
    table = table.append_column("language_persistent", pa.array([atoms] * 30))
    table = table.append_column(
        "language_events", pa.array([event if i == 20 else [] for i in range(30)])
    )
    table = table.append_column("subtask_index", pa.array([0] * 10 + [1] * 20, pa.int64()))
    pq.write_table(table, data)
    pq.write_table(
        pa.table({"subtask_index": [0, 1], "subtask": ["approach", "lift"]}),
        folder / "meta/subtasks.parquet",
    )
    info = json.loads((folder / "meta/info.json").read_text())
    info["features"] |= {
        "language_persistent": {"dtype": "language", "shape": [1]},
        "language_events": {"dtype": "language", "shape": [1]},
        "subtask_index": {"dtype": "int64", "shape": [1]},
    }
    (folder / "meta/info.json").write_text(json.dumps(info))
    [episode] = scan(folder)
    got = sorted((s.style, s.description, s.start_ns, s.end_ns) for s in episode.segments)
    assert got == sorted(
        [
            ("task", "pick the block", 0, 2_900_000_000),
            ("subtask", "approach", 0, 1_000_000_000),
            ("subtask", "lift", 1_000_000_000, 2_900_000_000),
            ("subtask", "reach", 0, 1_500_000_000),
            ("subtask", "grasp", 1_500_000_000, 2_900_000_000),
            ("interjection", "stop!", 2_000_000_000, 2_100_000_000),
        ]
    )


def test_not_a_dataset_folder_and_missing_paths(tmp_path):
    with pytest.raises(FormatError, match="not a LeRobot dataset"):
        scan(tmp_path)
    with pytest.raises(FormatError, match="no such file"):
        scan(tmp_path / "nope.mcap")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(FormatError, match="not an MCAP, HDF5 or LeRobot source"):
        scan(text)


def test_json_channels_with_foxglove_raw_images(tmp_path):
    import base64
    import json

    path = tmp_path / "foxglove.mcap"
    raw_schema = {
        "type": "object",
        "properties": {
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "encoding": {"type": "string"},
            "data": {"type": "string", "contentEncoding": "base64"},
        },
    }
    imu_schema = {
        "type": "object",
        "properties": {"ax": {"type": "number"}, "gyro": {"type": "array"}},
    }
    pixels = np.zeros((16, 24, 3), dtype=np.uint8)
    pixels[4:12, 8:16] = (255, 0, 0)
    with path.open("wb") as out:
        writer = McapWriter(out)
        writer.start(profile="", library="test")
        image_id = writer.register_schema(
            "foxglove.RawImage", "jsonschema", json.dumps(raw_schema).encode()
        )
        imu_id = writer.register_schema("lab.Imu", "jsonschema", json.dumps(imu_schema).encode())
        cam = writer.register_channel("/cam/raw", "json", image_id)
        imu = writer.register_channel("/imu", "json", imu_id)
        for i in range(10):
            t = 1_000 + i * 100_000_000
            writer.add_message(imu, t, json.dumps({"ax": i / 10, "gyro": [i, -i, 0.5]}).encode(), t)
            writer.add_message(
                cam,
                t,
                json.dumps(
                    {
                        "width": 24,
                        "height": 16,
                        "encoding": "rgb8",
                        "data": base64.b64encode(pixels.tobytes()).decode(),
                    }
                ).encode(),
                t,
            )
        writer.finish()
    [episode] = scan(path)
    kinds = {s.name: (s.kind, s.width, s.height) for s in episode.streams}
    assert kinds == {"/cam/raw": ("camera", 24, 16), "/imu": ("signal", None, None)}
    reader = reader_for(episode)
    times, values = reader.signal("/imu")
    assert reader.columns == ["ax", "gyro[0]", "gyro[1]", "gyro[2]"]
    assert values[3].tolist() == [0.3, 3.0, -3.0, 0.5] and times[3] == 300_000_000
    frame = reader.frame_at("/cam/raw", 420_000_000)
    assert frame.t_ns == 400_000_000 and frame.mime == "image/jpeg"
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(frame.data)) as image:
        red = np.asarray(image)[8, 12]
    assert red[0] > 200 and red[1] < 60


def _grey_video(path, levels, fps):
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for level in levels:
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_lerobot_v30_video_frames_seek_by_timestamp(tmp_path):
    """Two episodes share one mp4 (v3.0); each frame is a distinct grey level."""
    import json
    from io import BytesIO

    import pyarrow as pa
    from PIL import Image

    fps, frames = 10, 20
    folder = synthetic.write_lerobot_v30(tmp_path / "lr", episodes=2, frames=frames, fps=fps)
    levels = [10 + 6 * i for i in range(2 * frames)]
    _grey_video(folder / "videos/observation.images.top/chunk-000/file-000.mp4", levels, fps)
    meta = folder / "meta/episodes/chunk-000/file-000.parquet"
    rows = pq.read_table(meta).to_pylist()
    for e, row in enumerate(rows):
        row |= {
            "videos/observation.images.top/chunk_index": 0,
            "videos/observation.images.top/file_index": 0,
            "videos/observation.images.top/from_timestamp": e * frames / fps,
            "videos/observation.images.top/to_timestamp": (e + 1) * frames / fps,
        }
    pq.write_table(pa.Table.from_pylist(rows), meta)
    info = json.loads((folder / "meta/info.json").read_text())
    info["video_path"] = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    info["features"]["observation.images.top"] = {
        "dtype": "video",
        "shape": [48, 64, 3],
        "names": ["height", "width", "channels"],
        "info": {"video.fps": fps, "video.codec": "h264"},
    }
    (folder / "meta/info.json").write_text(json.dumps(info))
    episodes = scan(folder)
    assert not episodes[1].problems and episodes[1].cameras[0].width == 64
    reader = reader_for(episodes[1])
    for index in (0, 7, 19, 3):
        frame = reader.frame("observation.images.top", index)
        with Image.open(BytesIO(frame.data)) as image:
            grey = float(np.asarray(image.convert("L")).mean())
        assert abs(grey - levels[frames + index]) < 4, (index, grey)
        assert frame.t_ns == index * 100_000_000


def test_readers_come_from_a_registry_like_exporters(tmp_path):
    """A reader module registered at run time (or installed under the
    ``annotation_kit.readers`` entry point group) is detected by its suffix or magic bytes."""
    import types

    from annotation_kit import formats
    from annotation_kit.store.locations import locate

    assert {"mcap", "hdf5", "lerobot"} <= set(formats.readers())
    plugin = types.ModuleType("toy_reader")
    plugin.NAME, plugin.SUFFIXES, plugin.MAGIC = "toy", (".toy",), b"TOY1"
    plugin.scan = lambda location, probe_cameras=True: []
    plugin.open_episode = lambda location, info: None
    formats.register(plugin)
    try:
        (tmp_path / "a.toy").write_bytes(b"whatever")
        (tmp_path / "b.bin").write_bytes(b"TOY1 and more")
        assert formats.detect(locate(tmp_path / "a.toy")) is plugin
        assert formats.detect(locate(tmp_path / "b.bin")) is plugin
        assert formats.reader("toy-v2") is plugin and ".toy" in formats.suffixes()
    finally:
        formats._registered.pop("toy")
    with pytest.raises(formats.FormatError, match="no reader for format 'toy'"):
        formats.reader("toy")
