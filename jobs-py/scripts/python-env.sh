#!/usr/bin/env bash
# The jobs' Python environment, from the one lock:
#   python-env.sh sync   jobs-py/.venv = exactly jobs-py/uv.lock (`uv sync --frozen`, the dev extra included)
#   python-env.sh lock   re-resolve jobs-py/uv.lock to the newest versions pyproject.toml allows (on purpose)
#   python-env.sh uv     print the path of the pinned uv (installed first if needed)
#   python-env.sh install DIR
#                        an installed coattail's environment: DIR = the jobs and their locked dependencies
#                        with the pack extra (pip, for jobs pack-env), not the dev one; built from a copy of
#                        the sources, so nothing is written beside them (the package folder may be
#                        read-only); DIR/.complete marks it whole. Needs COATTAIL_PYENV_STATE, the writable
#                        folder for uv, the log and the lock.
# uv itself is pinned, hash-checked (scripts/uv-requirements.txt), in jobs-py/.tools (or the state folder).
# Python 3.11 is taken from COATTAIL_BASE_PYTHON, else python3.11, else python3; uv never downloads an
# interpreter. Errors are one line on stderr (the tools' own output goes to the log, jobs-py/.python-env.log).
set -euo pipefail

JOBS_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${COATTAIL_PYENV_STATE:-$JOBS_PY}"
if [ -n "${COATTAIL_PYENV_STATE:-}" ]; then
  TOOLS="$STATE/uv"
  LOG="$STATE/python-env.log"
else
  TOOLS="$JOBS_PY/.tools"
  LOG="$JOBS_PY/.python-env.log"
fi
UV_VERSION=0.13.10

say() { echo "coattail: $*" >&2; }
fail() {
  say "$*"
  exit 1
}
# The last line of the log that says something, for a one-line error.
last_words() { grep -v '^[[:space:]]*$' "$LOG" | tail -n 1 | cut -c1-300; }

find_python() {
  local candidates c version seen=""
  if [ -n "${COATTAIL_BASE_PYTHON:-}" ]; then candidates=("$COATTAIL_BASE_PYTHON"); else candidates=(python3.11 python3); fi
  for c in "${candidates[@]}"; do
    version="$("$c" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" || continue
    case "$version" in
      3.11.*)
        "$c" -c 'import sys; print(sys.executable)'
        return 0
        ;;
    esac
    seen="${seen:+$seen, }$c is $version"
  done
  fail "Python 3.11 is needed for the Spark jobs and none was found (${seen:-no python3.11 or python3 on PATH}): install it (Debian/Ubuntu: apt install python3.11 python3.11-venv; macOS: brew install python@3.11; or pyenv install 3.11) or set COATTAIL_BASE_PYTHON=/path/to/python3.11"
}

ensure_uv() {
  local python=$1
  # `uv --version` says "uv 0.13.10 (x86_64-unknown-linux-gnu)": the version is its second word.
  case "$("$TOOLS/bin/uv" --version 2>/dev/null)" in "uv $UV_VERSION" | "uv $UV_VERSION "*) return 0 ;; esac
  rm -rf "$TOOLS"
  "$python" -m venv "$TOOLS" >>"$LOG" 2>&1 ||
    fail "$python cannot make a virtualenv ($(last_words)); on Debian/Ubuntu: apt install python3.11-venv"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
    -r "$JOBS_PY/scripts/uv-requirements.txt" >>"$LOG" 2>&1 ||
    fail "cannot install uv $UV_VERSION from PyPI ($(last_words)); check the network or proxy (https_proxy). Log: $LOG"
}

# Runs "$@" holding an exclusive lock on $1 (fcntl, through Python: flock(1) is not on every system), so two
# coattail processes never build the same environment at once; the second waits, then finds it complete.
with_lock() {
  local python=$1 lock=$2
  shift 2
  "$python" -c '
import fcntl, subprocess, sys
with open(sys.argv[1], "a") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("coattail: waiting for another coattail creating the jobs\x27 Python environment", file=sys.stderr, flush=True)
        fcntl.flock(f, fcntl.LOCK_EX)
    sys.exit(subprocess.call(sys.argv[2:]))
' "$lock" "$@"
}

# The environment of an installed coattail in $1, from scratch.
install_env() {
  local target=$1 python=$2 build
  rm -rf "$target"
  build="$target.build"
  rm -rf "$build"
  mkdir -p "$build"
  # The sources' copy is what uv builds (and setuptools writes egg-info/ and build/ into): never the package.
  cp "$JOBS_PY/pyproject.toml" "$JOBS_PY/uv.lock" "$build/"
  (cd "$JOBS_PY" && find coattail_jobs -name '*.py' -print0) | (cd "$JOBS_PY" && xargs -0 tar cf -) | (cd "$build" && tar xf -)
  (cd "$build" && UV_PROJECT_ENVIRONMENT="$target" "$TOOLS/bin/uv" sync --frozen --no-editable --extra pack --python "$python") >>"$LOG" 2>&1 ||
    fail "cannot create the jobs' Python environment in $target ($(last_words)). Log: $LOG"
  rm -rf "$build"
  touch "$target/.complete"
}

main() {
  local command=${1:-sync} python
  if [ "$command" = install-locked ]; then
    # Re-entered by with_lock: the tools and the log are ours now. Another coattail may have built it meanwhile.
    python="$2"
    if [ -f "$3/.complete" ]; then return 0; fi
    : >"$LOG"
    ensure_uv "$python"
    # The default link mode (hardlinks from uv's cache where it can) keeps a first use quick and small.
    export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
    install_env "$3" "$python"
    return 0
  fi
  if [ "$command" = install ]; then
    [ -n "${COATTAIL_PYENV_STATE:-}" ] && [ -n "${2:-}" ] || fail "python-env.sh install DIR needs DIR and COATTAIL_PYENV_STATE"
    mkdir -p "$STATE" || fail "cannot create $STATE: set XDG_DATA_HOME to a writable folder"
    python="$(find_python)"
    with_lock "$python" "$STATE/.lock" bash "${BASH_SOURCE[0]}" install-locked "$python" "$2"
    return $?
  fi
  : >"$LOG"
  python="$(find_python)"
  ensure_uv "$python"
  export UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_NO_PROGRESS=1
  cd "$JOBS_PY"
  case "$command" in
    sync)
      say "building jobs-py/.venv from jobs-py/uv.lock ($python)"
      "$TOOLS/bin/uv" sync --frozen --extra dev --python "$python" >>"$LOG" 2>&1 ||
        fail "cannot build jobs-py/.venv from uv.lock ($(last_words)). Log: $LOG"
      ;;
    lock)
      "$TOOLS/bin/uv" lock --upgrade --python "$python" 2>&1 | tee -a "$LOG" >&2 ||
        fail "cannot update jobs-py/uv.lock. Log: $LOG"
      say "jobs-py/uv.lock updated: review 'git diff jobs-py/uv.lock', then make test"
      ;;
    uv) echo "$TOOLS/bin/uv" ;;
    *) fail "python-env.sh: unknown command '$command' (sync, lock, uv or install DIR)" ;;
  esac
}

main "$@"
