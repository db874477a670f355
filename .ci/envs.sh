#!/usr/bin/env bash
# The oldest and the newest supported Python, NumPy and SciPy, each in a fresh virtual
# environment with only numpy, scipy and the test tools (no optional extra):
#   oldest  Python 3.9  + .ci/requirements-oldest.txt (the declared minimums, pinned exactly)
#   newest  Python 3.13 + .ci/requirements-newest.txt (the newest releases, pinned exactly)
# In each: the fast test set, then the main command at the tiny preset; the two results.json
# must give the same effects and numbers within .ci/compare_results.py's tolerance.
# Wheels only (nothing is compiled), kept between runs in $REFMEM_CI_WHEELS (default
# ~/.cache/refmem-ci/wheels) and downloaded only when missing.
# Interpreters: $PYENV_ROOT/versions/X.Y.*, else pythonX.Y on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/refmem-envs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
WHEELS=${REFMEM_CI_WHEELS:-$HOME/.cache/refmem-ci/wheels}
export OPENBLAS_NUM_THREADS=1 PIP_DISABLE_PIP_VERSION_CHECK=1
SUMMARY=()

find_python() {  # find_python 3.9 -> the newest installed 3.9.x interpreter
    local v=$1 p
    for p in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v".*/bin/"python$v" 2>/dev/null | sort -V -r); do
        echo "$p"; return 0
    done
    if p=$(command -v "python$v") && "$p" -c pass 2>/dev/null; then echo "$p"; return 0; fi
    echo "envs: no Python $v found (looked in ${PYENV_ROOT:-$HOME/.pyenv}/versions and PATH)" >&2
    return 1
}

run_env() {  # run_env NAME PYTHON_VERSION REQUIREMENTS
    local name=$1 env=$WORK/$1 t0 t1 t2 t3 py counts
    echo "=== envs: $name (Python $2, $3) ==="
    t0=$(date +%s)
    py=$(find_python "$2")
    "$py" -m venv "$env"
    # Wheels are kept in $WHEELS/NAME and installed from there without an index when all are
    # present; otherwise they are downloaded first (pip's own cache does not keep them here).
    if ! "$env/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS/$name" -r "$3" \
            2>/dev/null; then
        echo "envs: downloading the wheels of $3 into $WHEELS/$name"
        "$env/bin/python" -m pip download --quiet --only-binary=:all: -d "$WHEELS/$name" -r "$3"
        "$env/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS/$name" -r "$3"
    fi
    "$env/bin/python" -m pip install --quiet --no-deps "$WORK"/wheel/refmem-*.whl
    "$env/bin/python" - <<'EOF'
import importlib.util, sys
extras = ["matplotlib", "h5py", "torch", "dask", "PIL"]
present = [m for m in extras if importlib.util.find_spec(m) is not None]
if present:
    sys.exit(f"envs: the core-only environment has optional packages: {present}")
import numpy, scipy
print(f"envs: Python {sys.version.split()[0]}, numpy {numpy.__version__}, scipy {scipy.__version__}; "
      f"not installed: {', '.join(extras)}")
EOF
    t1=$(date +%s)
    "$env/bin/python" -m pytest -q -p no:cacheprovider 2>&1 | tee "$WORK/$name-pytest.log"
    counts=$(tail -n 1 "$WORK/$name-pytest.log" | sed -e 's/^=* *//' -e 's/ in [0-9.]*s.*//')
    t2=$(date +%s)
    # The main command, where only the core is installed (figures that need matplotlib are skipped).
    (cd "$WORK" && REFMEM_CACHE_DIR="$WORK/$name-cache" "$env/bin/refmem" run consolidation \
        --config tiny --seed 0 --out "$WORK/$name-tiny" --quiet)
    t3=$(date +%s)
    SUMMARY+=("$name (Python $2): install $((t1 - t0)) s; tests $((t2 - t1)) s ($counts); tiny run $((t3 - t2)) s")
}

# One wheel of this checkout, installed in both environments.
t=$(date +%s)
python -m pip wheel --quiet --no-deps --wheel-dir "$WORK/wheel" "$ROOT"
SUMMARY+=("refmem wheel built in $(($(date +%s) - t)) s")
run_env oldest 3.9 .ci/requirements-oldest.txt
run_env newest 3.13 .ci/requirements-newest.txt
"$WORK/newest/bin/python" .ci/compare_results.py "$WORK/oldest-tiny/results.json" "$WORK/newest-tiny/results.json"
printf 'envs: %s\n' "${SUMMARY[@]}"
