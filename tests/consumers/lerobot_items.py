#!/usr/bin/env python3
"""Read an export back item by item with lerobot's own ``LeRobotDataset`` and compare what each
frame says with what annotation_kit meant (run with a consumer venv's python):

    python lerobot_items.py DATASET EXPECTED.json

EXPECTED holds, per LeRobot episode, its task and the subtask of each frame (``null`` where the
export has no subtasks). Checked on every frame: ``item["task"]``; the subtask through
``subtask_index`` and ``meta/subtasks.parquet`` as each lerobot reads it (``item["subtask"]``
where lerobot 0.4 adds it); with language columns (lerobot 0.6), the ``subtask`` row active at
the frame's timestamp and a chat sample rendered by lerobot's ``render_sample`` with
``${task}``, ``${subtask}`` and ``${plan}``. Video features are left out (lerobot_check.py
decodes them). Ends with ``OK n_frames`` or ``FAIL reason``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lerobot_check import _bootstrap_env, make_shadow


def main(dataset: Path, expected_path: Path) -> int:
    work = Path(tempfile.mkdtemp(prefix="lritems-"))
    os.environ |= {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(work / "hf"),
        "HF_LEROBOT_HOME": str(work / "lerobot"),
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        "TQDM_DISABLE": "1",
    }
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    import pandas as pd
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    expected = json.loads(expected_path.read_text())
    info = json.loads((dataset / "meta/info.json").read_text())
    videos = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    shadow = work / "ds"
    make_shadow(dataset, shadow, info, videos)
    ds = LeRobotDataset("local/items", root=shadow)
    subtasks = None
    if (dataset / "meta/subtasks.parquet").exists():
        subtasks = pd.read_parquet(dataset / "meta/subtasks.parquet")
    has_language = "language_persistent" in info["features"]
    render = None
    if has_language:
        from lerobot.configs.recipe import MessageTurn, TrainingRecipe
        from lerobot.datasets.language_render import active_at, render_sample

        recipe = TrainingRecipe(
            messages=[
                MessageTurn("user", "${task}", stream="high_level"),
                MessageTurn("assistant", "${subtask}", stream="high_level", target=True),
                MessageTurn("assistant", "${plan}", stream="high_level", if_present="plan"),
            ]
        )
        render = (recipe, active_at, render_sample)
    problems: list[str] = []
    index = 0
    for number, episode in enumerate(expected["episodes"]):
        for frame, want in enumerate(episode["subtasks"]):
            item = ds[index]
            index += 1
            where = f"episode {number} frame {frame}"
            if int(item["episode_index"]) != number or int(item["frame_index"]) != frame:
                problems.append(
                    f"{where}: item is episode {int(item['episode_index'])} frame "
                    f"{int(item['frame_index'])}"
                )
            if item["task"] != episode["task"]:
                problems.append(f"{where}: task {item['task']!r}, expected {episode['task']!r}")
            if want is None:
                if "subtask_index" in item:
                    problems.append(f"{where}: subtask_index present though nothing was annotated")
            else:
                got = subtasks.index[int(item["subtask_index"])]
                if got != want:
                    problems.append(f"{where}: subtask_index names {got!r}, expected {want!r}")
                if "subtask" in item and item["subtask"] != want:  # lerobot 0.4 adds it
                    said = item["subtask"]
                    problems.append(f"{where}: item['subtask'] {said!r}, expected {want!r}")
            if render is not None:
                recipe, active_at, render_sample = render
                t = float(item["timestamp"])
                rows = item["language_persistent"]
                row = active_at(t, persistent=rows, style="subtask")
                active = None if row is None else row["content"]
                if active != want:
                    problems.append(f"{where}: active subtask row {active!r}, expected {want!r}")
                sample = render_sample(
                    recipe=recipe,
                    persistent=rows,
                    events=item["language_events"],
                    t=t,
                    sample_idx=index,
                    task=None,
                    dataset_ctx={"task": item["task"]},
                )
                said = sample["messages"][1]["content"] if sample else None
                if want is not None and said != want:
                    problems.append(f"{where}: render_sample gave ${{subtask}} = {said!r}")
                users = {r["content"] for r in rows if r["style"] == "task_aug"}
                told = sample["messages"][0]["content"] if sample else None
                if told not in ({item["task"]} | users):
                    problems.append(f"{where}: render_sample gave ${{task}} = {told!r}")
            if len(problems) > 5:
                break
        if len(problems) > 5:
            break
    if index != len(ds):
        problems.append(f"{len(ds)} frames loaded, {index} expected")
    if problems:
        print("FAIL " + " | ".join(problems[:5]))
        return 1
    print(f"OK {index}")
    return 0


if __name__ == "__main__":
    _bootstrap_env()
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
