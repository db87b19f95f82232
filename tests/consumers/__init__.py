"""The programs that consume our exports, run as a user would run them.

Each consumer lives in its own environment, built once per machine by ``build.sh`` under
``$LR_HOME`` (default ``~/.cache/lerobot-oracles``): ``v06`` (lerobot 0.6.1, Python 3.12),
``v30`` (lerobot 0.4.4) and ``v21`` (lerobot 0.3.3) on Python 3.11, ``robomimic`` (robomimic
0.3.0) and ``doctor`` (lerobot-doctor). A missing environment fails the test that needs it,
naming the command that builds it: a consumer is never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LR_HOME = Path(
    os.environ.get("LR_HOME")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lerobot-oracles"
)
LEROBOT = {"0.6.1": "v06", "0.4.4": "v30", "0.3.3": "v21"}


def python(env: str) -> Path:
    found = LR_HOME / env / "bin/python"
    if not found.exists():
        pytest.fail(f"consumer environment {env} is missing: run tests/consumers/build.sh")
    return found


def run(env: str, script: str, *args: str | Path, timeout: int = 600) -> str:
    """Run ``script`` (in this folder) with a consumer's python; its output, or a failure that
    shows it."""
    done = subprocess.run(
        [str(python(env)), str(HERE / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )
    out = done.stdout.strip()
    last = out.splitlines()[-1] if out else ""
    if done.returncode != 0 or last.startswith("FAIL") or not last.startswith("OK"):
        pytest.fail(f"{script} in {env} on {args[0]}:\n{out[-3000:]}\n{done.stderr[-2000:]}")
    return out


def lerobot_loads(dataset: Path, version: str = "0.6.1") -> str:
    """lerobot ``version`` loads ``dataset`` (``LeRobotDataset``, every episode's boundaries,
    timestamps, tasks, a sample of items, video decoded by lerobot and by PyAV)."""
    return run(LEROBOT[version], "lerobot_check.py", dataset)


def lerobot_items(dataset: Path, episodes: list[dict], version: str = "0.6.1") -> str:
    """Every frame, read by lerobot ``version``, says the task and subtask in ``episodes``
    (``[{"task": ..., "subtasks": [per frame]}]``; see ``lerobot_items.py``)."""
    expected = dataset.parent / f"{dataset.name}.expected.json"
    expected.write_text(json.dumps({"episodes": episodes}))
    return run(LEROBOT[version], "lerobot_items.py", dataset, expected)
