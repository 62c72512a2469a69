"""scripts/python-env.sh finds Python 3.11 (or says in one line what to install) before anything else runs.

Interpreters are stand-ins on a PATH of their own: a ``python3`` that is 3.13 (as current distributions
ship), a ``python3.11`` that is this machine's real 3.11."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JOBS_PY = Path(__file__).resolve().parents[1]
SCRIPT = JOBS_PY / "scripts" / "python-env.sh"
TOOLS = ("dirname", "grep", "tail", "cut", "rm", "tee")
INSTALL = (
    "install it (Debian/Ubuntu: apt install python3.11 python3.11-venv; macOS: brew install python@3.11; "
    "or pyenv install 3.11) or set COATTAIL_BASE_PYTHON=/path/to/python3.11"
)


def _bin(tmp: Path, pythons: dict[str, str | Path]) -> Path:
    """A folder for PATH: the few tools the script uses, and each python as a stand-in printing its version
    (a str) or a link to a real interpreter (a Path)."""
    folder = tmp / "bin"
    folder.mkdir()
    for tool in TOOLS:
        found = next(Path(d) / tool for d in ("/usr/bin", "/bin") if (Path(d) / tool).exists())
        (folder / tool).symlink_to(found)
    for name, what in pythons.items():
        if isinstance(what, Path):
            (folder / name).symlink_to(what)
        else:
            (folder / name).write_text(f"#!/bin/sh\necho {what}\n")
            (folder / name).chmod(0o755)
    return folder


def _run(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), *args],
        env={"PATH": str(folder), "HOME": os.environ.get("HOME", "/root"), **(env or {})},
        capture_output=True,
        text=True,
    )


def test_python3_is_3_13_and_there_is_no_python3_11_one_line_saying_what_to_install(tmp_path: Path) -> None:
    run = _run(_bin(tmp_path, {"python3": "3.13.1"}), "sync")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"coattail: Python 3.11 is needed for the Spark jobs and none was found (python3 is 3.13.1): {INSTALL}"
    ]
    assert run.stdout == ""


def test_no_python_at_all(tmp_path: Path) -> None:
    run = _run(_bin(tmp_path, {}), "sync")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "coattail: Python 3.11 is needed for the Spark jobs and none was found (no python3.11 or python3 on PATH): "
        + INSTALL
    ]


def test_a_base_python_that_is_not_3_11_is_refused(tmp_path: Path) -> None:
    folder = _bin(tmp_path, {"python3.12": "3.12.1"})
    run = _run(folder, "sync", env={"COATTAIL_BASE_PYTHON": str(folder / "python3.12")})
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"coattail: Python 3.11 is needed for the Spark jobs and none was found ({folder}/python3.12 is 3.12.1): "
        + INSTALL
    ]


def test_python3_11_is_found_beside_a_newer_python3(tmp_path: Path) -> None:
    real = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    # `uv` only prints the pinned uv's path, installing it first if needed (make has already: nothing to do).
    run = _run(_bin(tmp_path, {"python3": "3.13.1", "python3.11": real}), "uv")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(JOBS_PY / ".tools" / "bin" / "uv")
    assert run.stderr == ""
