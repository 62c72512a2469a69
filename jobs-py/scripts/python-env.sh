#!/usr/bin/env bash
# The jobs' Python environment, from the one lock:
#   python-env.sh sync   jobs-py/.venv = exactly jobs-py/uv.lock (`uv sync --frozen`, the dev extra included)
#   python-env.sh lock   re-resolve jobs-py/uv.lock to the newest versions pyproject.toml allows (on purpose)
#   python-env.sh uv     print the path of the pinned uv (installed first if needed)
# uv itself is pinned, hash-checked (scripts/uv-requirements.txt), in jobs-py/.tools. Python 3.11 is taken
# from COATTAIL_BASE_PYTHON, else python3.11, else python3; uv never downloads an interpreter.
# Errors are one line on stderr (the tools' own output goes to jobs-py/.python-env.log).
set -euo pipefail

JOBS_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$JOBS_PY/.tools"
LOG="$JOBS_PY/.python-env.log"
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
  if [ "$("$TOOLS/bin/uv" --version 2>/dev/null)" = "uv $UV_VERSION" ]; then return 0; fi
  rm -rf "$TOOLS"
  "$python" -m venv "$TOOLS" >>"$LOG" 2>&1 ||
    fail "$python cannot make a virtualenv ($(last_words)); on Debian/Ubuntu: apt install python3.11-venv"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
    -r "$JOBS_PY/scripts/uv-requirements.txt" >>"$LOG" 2>&1 ||
    fail "cannot install uv $UV_VERSION from PyPI ($(last_words)); check the network or proxy (https_proxy). Log: $LOG"
}

main() {
  local command=${1:-sync} python
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
    *) fail "python-env.sh: unknown command '$command' (sync, lock or uv)" ;;
  esac
}

main "$@"
