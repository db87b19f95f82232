#!/usr/bin/env python3
"""Load an HDF5 file the way robomimic's training does (run with the robomimic venv's python):

    python robomimic_check.py FILE.hdf5

robomimic's default configs of BC and of IQL (offline RL: ``hdf5_load_next_obs=True``, the
base config's default), with ``dataset_keys`` actions/rewards/dones and
``hdf5_cache_mode="all"``; the file's observations as low-dim or RGB modalities; then
``TrainUtils.dataset_factory`` and every item of the ``SequenceDataset``, also through the
``mask/train`` filter key. Ends with ``OK n_demos n_items`` or ``FAIL reason``.
"""

from __future__ import annotations

import sys
import warnings


def main(path: str) -> int:
    warnings.filterwarnings("ignore")
    import h5py
    import numpy as np
    import robomimic.utils.obs_utils as obs_utils
    import robomimic.utils.train_utils as train_utils
    from robomimic.config import config_factory

    with h5py.File(path, "r") as f:
        demos = sorted(f["data"], key=lambda d: int(d.split("_")[-1]))
        first = f[f"data/{demos[0]}/obs"]
        low_dim = [k for k in first if first[k].ndim == 2]
        rgb = [k for k in first if first[k].ndim == 4]
    problems = []
    items = 0
    for algo in ("bc", "iql"):
        config = config_factory(algo)
        config.train.data = path
        with config.unlocked():
            config.observation.modalities.obs.low_dim = low_dim
            config.observation.modalities.obs.rgb = rgb
        obs_utils.initialize_obs_utils_with_config(config)
        parts = ("obs", "next_obs") if config.train.hdf5_load_next_obs else ("obs",)
        for filter_key in (None, "train"):
            dataset = train_utils.dataset_factory(
                config, low_dim + rgb, filter_by_attribute=filter_key
            )
            if len(dataset) == 0:
                problems.append(f"{algo}, filter {filter_key}: no items")
            for i in range(len(dataset)):
                item = dataset[i]
                items += 1
                for part in parts:
                    for key in low_dim + rgb:
                        if not np.all(np.isfinite(item[part][key])):
                            problems.append(f"{algo} item {i}: {part}/{key} is not finite")
                for key in config.train.dataset_keys:
                    if key not in item:
                        problems.append(f"{algo} item {i}: no {key}")
                if len(problems) > 5:
                    break
    if problems:
        print("FAIL " + " | ".join(problems[:5]))
        return 1
    print(f"OK {len(demos)} {items}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
