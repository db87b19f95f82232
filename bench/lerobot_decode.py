"""Random-frame access as training does it: ``LeRobotDataset(...)[i]`` for random ``i``, each
decoding every camera's frame at that time with lerobot's own decoder (torchcodec). Run with a
lerobot 0.6.1 venv's python (``bench/video.py`` does): ``python lerobot_decode.py DATASET N``.
Prints one JSON line: per-item milliseconds (p50, p95, mean) and the codec of each camera."""

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/consumers"))
from lerobot_check import _bootstrap_env


def main(dataset: Path, count: int) -> None:
    work = tempfile.mkdtemp(prefix="lrdecode-")
    os.environ |= {"HF_HUB_OFFLINE": "1", "HF_HOME": work, "HF_LEROBOT_HOME": work}
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    import numpy as np
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("local/decode", root=dataset)
    info = json.loads((dataset / "meta/info.json").read_text())
    codecs = {
        k: f["info"]["video.codec"] for k, f in info["features"].items() if f["dtype"] == "video"
    }
    ds[0]  # open the decoders once
    picks = random.Random(0).sample(range(len(ds)), min(count, len(ds)))
    times = []
    for i in picks:
        start = time.perf_counter()
        ds[i]
        times.append((time.perf_counter() - start) * 1000)
    print(
        json.dumps(
            {
                "p50_ms": float(np.percentile(times, 50)),
                "p95_ms": float(np.percentile(times, 95)),
                "mean_ms": float(np.mean(times)),
                "items": len(times),
                "codecs": codecs,
            }
        )
    )


if __name__ == "__main__":
    _bootstrap_env()
    main(Path(sys.argv[1]), int(sys.argv[2]))
