#!/usr/bin/env python3
"""Write the content of a LeRobot v3.0 dataset again with lerobot 0.6.1's own writer (run with
the v06 venv's python), as the reference lerobot-doctor's findings are compared with:

    python lerobot_rewrite.py SOURCE DESTINATION

Frames go through ``LeRobotDataset.create`` / ``add_frame`` / ``save_episode``; language
columns, which ``add_frame`` does not take, through lerobot's annotation writer
(``LanguageColumnsWriter``), with each episode's rows read from SOURCE. Ends with ``OK``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(source: Path, destination: Path) -> int:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import numpy as np
    import pyarrow.parquet as pq
    from lerobot.annotations.steerable_pipeline.writer import LanguageColumnsWriter
    from lerobot.datasets.io_utils import write_table_one_row_group_per_episode
    from lerobot.datasets.language import LANGUAGE_COLUMNS, language_feature_info
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    dataset = LeRobotDataset("local/source", root=source)
    info = json.loads((source / "meta/info.json").read_text())
    own = {"timestamp", "frame_index", "episode_index", "index", "task_index", *LANGUAGE_COLUMNS}
    features = {}
    for key, feature in info["features"].items():
        if key not in own:
            features[key] = {k: v for k, v in feature.items() if k != "info"}
            features[key]["shape"] = tuple(feature["shape"])
    videos = any(f["dtype"] == "video" for f in features.values())
    out = LeRobotDataset.create(
        "local/reference", fps=info["fps"], features=features, root=destination, use_videos=videos
    )
    episode, language = None, {}
    for i in range(len(dataset)):
        item = dataset[i]
        if episode is not None and int(item["episode_index"]) != episode:
            out.save_episode()
        episode = int(item["episode_index"])
        if "language_persistent" in item:
            language[episode] = (item["language_persistent"], item["language_events"])
        frame = {"task": item["task"]}
        for key, feature in features.items():
            value = item[key]
            if feature["dtype"] in ("video", "image"):
                value = (value.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            else:
                value = value.numpy().reshape(feature["shape"])
            frame[key] = value
        out.add_frame(frame)
    out.save_episode()
    out.finalize()
    if language:
        writer = LanguageColumnsWriter()
        for path in sorted((destination / "data").rglob("*.parquet")):
            table = pq.read_table(path)
            episodes = table.column("episode_index").to_pylist()
            table = writer._materialize_table(
                table,
                [language[e][0] for e in episodes],
                [language[e][1] for e in episodes],
                drop_old=False,
            )
            write_table_one_row_group_per_episode(table, path)
        meta = json.loads((destination / "meta/info.json").read_text())
        for key, feature in language_feature_info().items():
            meta["features"][key] = feature | {"shape": list(feature["shape"])}
        (destination / "meta/info.json").write_text(json.dumps(meta, indent=4))
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
