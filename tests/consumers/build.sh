#!/usr/bin/env bash
# Build (once per machine, cached under $LR_HOME) the environments of the programs that consume
# our exports; each step is idempotent and fast when its environment is already there.
#   v06        lerobot 0.6.1 on Python 3.12          (lerobot06_venv.sh, from shared/oracles)
#   v30, v21   lerobot 0.4.4 and 0.3.3 on Python 3.11 (lerobot_venv.sh, from shared/oracles)
#   robomimic  robomimic 0.3.0 on Python 3.11 (pinned, --no-deps: its metadata wants egl_probe,
#              which does not build here, and tensorboard; SequenceDataset needs neither)
#   doctor     lerobot-doctor 0.2.0 on Python 3.12
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LR_HOME="${LR_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/lerobot-oracles}"
py312() {
  for p in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  echo "Python 3.12 not found" >&2; exit 1
}
py311() {
  for p in python3.11 "$HOME"/.pyenv/versions/3.11*/bin/python3; do
    "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  echo "Python 3.11 not found" >&2; exit 1
}
export LR_PYTHON312="${LR_PYTHON312:-$(py312)}" LR_PYTHON="${LR_PYTHON:-$(py311)}"
quiet() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }
# one build at a time (a second `make` waits rather than deleting what the first installs)
mkdir -p "$LR_HOME"
exec 9>"$LR_HOME/.build.lock"
flock 9

bash "$here/lerobot06_venv.sh"
bash "$here/lerobot_venv.sh" | grep -v 'check a dataset\|bin/python lerobot_check'

pinned_venv() {  # name, python, stamp text, then pip arguments
  local name="$1" python="$2" want="$3"; shift 3
  local venv="$LR_HOME/$name"
  if [[ -f "$venv/.stamp" && -x "$venv/bin/python" && "$(cat "$venv/.stamp")" == "$want" ]]; then
    echo "$name: up to date ($venv)"; return
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  quiet "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$@"
  echo "$want" > "$venv/.stamp"
  echo "$name: built ($(du -sh "$venv" | cut -f1))"
}

ROBOMIMIC_PINS="robomimic==0.3.0 torch==2.14.1 torchvision==0.29.1 h5py==3.16.0 numpy==2.4.6
psutil==7.2.2 tqdm==4.70.1 termcolor==3.3.0 ImageIO==2.38.1 six==1.17.0 matplotlib==3.11.2
contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0 kiwisolver==1.5.1 pyparsing==3.3.3
python-dateutil==4.0.0 packaging==26.4 pillow==13.0.0 typing_extensions==4.16.0 filelock==4.3.1
fsspec==2026.9.0 Jinja2==3.1.6 MarkupSafe==3.0.4 networkx==3.6.1 sympy==1.14.0 mpmath==1.3.0
tzdata==2026.6"
# torch's CUDA libraries come as its dependencies: install torch with them, the rest without
pinned_venv robomimic "$LR_PYTHON" "$ROBOMIMIC_PINS" torch==2.14.1 torchvision==0.29.1
"$LR_HOME/robomimic/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  $ROBOMIMIC_PINS 2> >(grep -v 'is ignored' >&2)
"$LR_HOME/robomimic/bin/python" -c 'from robomimic.utils.dataset import SequenceDataset' \
  || { rm -f "$LR_HOME/robomimic/.stamp"; echo "robomimic does not import" >&2; exit 1; }

pinned_venv doctor "$LR_PYTHON312" "lerobot-doctor==0.2.0" lerobot-doctor==0.2.0
