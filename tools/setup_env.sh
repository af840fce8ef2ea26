#!/usr/bin/env bash
# Creates .venv/ and installs the pinned rhis_plugin stack. Safe to run again: finished steps are skipped.
#
# Environment knobs:
#   PYTHON          interpreter for the venv (default: python3.11)
#   RHIS_VENV       venv folder (default: <repo>/.venv)
#   RHIS_CACHE_DIR  where the built mmcv wheel is kept (default: ${XDG_CACHE_HOME:-~/.cache}/rhis_plugin)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${RHIS_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3.11}
CACHE=${RHIS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rhis_plugin}
CONSTRAINTS=$ROOT/requirements/constraints.txt
MMCV_VERSION=2.1.0
START=$SECONDS

log() { echo "[setup +$((SECONDS - START))s] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }
pin() { sed -n "s/^$1==//p" "$CONSTRAINTS"; }

# ---------------------------------------------------------------- venv
if [[ ! -x $VENV/bin/python ]]; then
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found; set PYTHON=/path/to/python3.11"
    log "creating venv at $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
else
    log "venv exists at $VENV"
fi
PY=$VENV/bin/python
PIP=("$PY" -m pip --disable-pip-version-check)

# ---------------------------------------------------------------- build tools and torch
# setuptools stays at 80.9.0: mim and the mmcv build import pkg_resources, gone from later releases.
want_torch=$(pin torch)
have() { "$PY" - "$@" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if all(version(n) == v for n, v in zip(sys.argv[1::2], sys.argv[2::2])) else 1)
EOF
}
if have setuptools "$(pin setuptools)" wheel "$(pin wheel)" torch "$want_torch" torchvision "$(pin torchvision)"; then
    log "setuptools, torch $want_torch, torchvision already installed"
else
    log "installing setuptools, wheel, torch $want_torch, torchvision (large download on first run)"
    "${PIP[@]}" install -q -c "$CONSTRAINTS" setuptools wheel
    "${PIP[@]}" install -q -c "$CONSTRAINTS" torch torchvision
fi

# ---------------------------------------------------------------- mmcv (compiled, cached)
# Build with CUDA ops only where a CUDA toolkit and a GPU are both present.
if command -v nvcc >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    MMCV_FLAVOUR=cu$("$PY" -c 'import torch; print((torch.version.cuda or "none").replace(".", ""))')
    BUILD_ENV=(FORCE_CUDA=1)
else
    MMCV_FLAVOUR=cpu
    BUILD_ENV=(FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=)
fi
ABI=$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
WHEEL_DIR=$CACHE/wheels/mmcv-${MMCV_VERSION}_torch-${want_torch}_${ABI}_${MMCV_FLAVOUR}
mmcv_ok() { "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }

if mmcv_ok; then
    log "mmcv $MMCV_VERSION with ops already installed (cached wheel: $WHEEL_DIR)"
else
    wheel=$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [[ -n $wheel ]]; then
        log "reusing cached mmcv wheel $wheel"
    else
        log "building mmcv $MMCV_VERSION from source with ops ($MMCV_FLAVOUR); takes ~15 min on 2 cores"
        build=$(mktemp -d)
        trap 'rm -rf "$build"' EXIT
        "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$build" "mmcv==$MMCV_VERSION"
        tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
        src=$build/mmcv-$MMCV_VERSION
        # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++17.
        sed -i "s/'-std=c++17'/'-std=c++20'/g" "$src/setup.py"
        grep -q "'-std=c++20'" "$src/setup.py" || die "could not patch the C++ standard in mmcv's setup.py"
        (cd "$src" && env MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" "${BUILD_ENV[@]}" \
            "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$build/dist" .)
        mkdir -p "$WHEEL_DIR"
        cp "$build"/dist/mmcv-*.whl "$WHEEL_DIR"/
        wheel=$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
        log "cached mmcv wheel at $wheel"
    fi
    "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
    # mmcv's own requirements, minus opencv which comes below as the headless build.
    "${PIP[@]}" install -q -c "$CONSTRAINTS" addict packaging Pillow pyyaml yapf mmengine
    mmcv_ok || die "mmcv installed but 'import mmcv.ops' fails"
fi

# ---------------------------------------------------------------- everything else + the plugin (editable)
STAMP=$VENV/.rhis_setup_stamp
digest=$(cat "$CONSTRAINTS" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$digest" ]] && "$PY" -c "import rhis_plugin" 2>/dev/null; then
    log "python packages up to date (constraints unchanged)"
else
    log "installing mmdet, openmim, ultralytics, timm, smp, onnx, onnxruntime, pycocotools, pytest(-xdist) and rhis_plugin"
    "${PIP[@]}" install -q -c "$CONSTRAINTS" --no-build-isolation -e "$ROOT[all,dev]"
    # mmengine and ultralytics ask for opencv-python; the headless build provides the same cv2 without GUI libs.
    # Both wheels ship the same cv2/ folder, so removing one breaks the other: reinstall headless after.
    if "${PIP[@]}" show -q opencv-python >/dev/null 2>&1; then
        "${PIP[@]}" uninstall -q -y opencv-python
        "${PIP[@]}" install -q --no-deps --force-reinstall -c "$CONSTRAINTS" opencv-python-headless
    fi
fi

# ---------------------------------------------------------------- opencv-python, satisfied by the headless build
# mmengine, mmcv and ultralytics name opencv-python in their requirements; the headless wheel provides the same cv2.
# A metadata-only opencv-python (no files, requiring opencv-python-headless of the same version) tells pip so, so
# that `pip check` passes and no later install pulls the GUI wheel back over the headless one.
if ! "${PIP[@]}" show -q opencv-python >/dev/null 2>&1; then
    cv_version=$("$PY" -c 'from importlib.metadata import version; print(version("opencv-python-headless"))')
    shim=$(mktemp -d)
    cat >"$shim/setup.py" <<EOF
from setuptools import setup
setup(name='opencv-python', version='$cv_version', py_modules=[],
      install_requires=['opencv-python-headless==$cv_version'],
      description='metadata only: cv2 comes from opencv-python-headless (rhis_plugin tools/setup_env.sh)')
EOF
    "${PIP[@]}" install -q --no-deps --no-build-isolation "$shim" || die "could not install the opencv-python shim"
    rm -rf "$shim"
fi

# ---------------------------------------------------------------- check
"$PY" -c "import mmcv.ops, mmdet, ultralytics, rhis_plugin, cv2" \
    || die "the environment is incomplete; delete $VENV and run again"
PYTHONWARNINGS=ignore "$VENV/bin/mim" --version >/dev/null || die "mim does not start"
"${PIP[@]}" check >/dev/null || die "pip check fails: $("${PIP[@]}" check 2>&1 | tail -n 3)"
echo "$digest" >"$STAMP"
log "done: $VENV is ready (activate with 'source $VENV/bin/activate')"
