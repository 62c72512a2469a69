"""pack-env: the jobs' third-party packages for EMR Serverless, as one reproducible archive for ``spark.archives``.

The jobs need pandas and pyarrow (volume-anomaly's ``applyInPandasWithState``) and boto3 (DynamoDB alerts,
CloudWatch metrics); EMR Serverless images ship Python 3.11 but do not document those packages. The archive
brings them, built here for the image (CPython 3.11, manylinux wheels of its CPU architecture), without an
interpreter of its own:

- ``lib/``: ``pip install --target`` of the pinned wheels (``emr_requirements``: the versions of ``uv.lock``,
  every transitive package included, installed ``--no-deps``), downloaded for the target platform whatever
  this machine is;
- ``bin/python``: a wrapper that runs the image's interpreter (``/usr/bin/python3.11`` by default) with
  ``lib/`` first on ``PYTHONPATH``.

``coattail jobs submit --venv-archive`` uploads it and sets ``spark.archives=<s3 uri>#environment`` with
``./environment/bin/python`` as the driver's and the executors' Python. The same pins and the same pip give
the same bytes: entries sorted, times, owners and modes normalized, no ``.pyc`` (``--no-compile``), gzip
without a time stamp.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from .config import ConfigError

JOB = "pack-env"

LOCK = Path(__file__).resolve().parents[1] / "uv.lock"
PROJECT = "coattail-jobs"
# Spark itself is the image's: the archive brings only what the jobs add to it.
PROVIDED_BY_EMR = frozenset({"pyspark", "py4j"})


def emr_requirements(arch: str = "x86_64", lock: Path = LOCK) -> tuple[str, ...]:
    """``name==version`` of every package the jobs need at run time beside Spark, from ``uv.lock`` (the one
    lock the tests' virtualenv is built from): the project's dependencies and theirs, transitively, for the
    image (Linux, CPython 3.11, ``arch``), sorted. So the archive cannot differ from what was tested."""
    packages = {p["name"]: p for p in tomllib.loads(lock.read_text())["package"]}
    target = {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": arch,
        "python_version": PYTHON_VERSION,
        "python_full_version": f"{PYTHON_VERSION}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }

    def applies(dependency: dict[str, str]) -> bool:
        marker = dependency.get("marker")
        if not marker:
            return True
        from packaging.markers import Marker  # only when the lock has a marker on this path

        return Marker(marker).evaluate(target)

    pins: dict[str, str] = {}
    todo = [d["name"] for d in packages[PROJECT].get("dependencies", []) if applies(d)]
    while todo:
        name = todo.pop()
        if name in pins or name in PROVIDED_BY_EMR:
            continue
        package = packages[name]
        pins[name] = package["version"]
        todo.extend(d["name"] for d in package.get("dependencies", []) if applies(d))
    return tuple(f"{name}=={version}" for name, version in sorted(pins.items()))


ARCHES = ("x86_64", "aarch64")
DEFAULT_INTERPRETER = "/usr/bin/python3.11"
PYTHON_VERSION = "3.11"

WRAPPER = """#!/bin/sh
# coattail pack-env: the image's Python, with this archive's packages first on the path.
here=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$here/lib${{PYTHONPATH:+:$PYTHONPATH}}"
export PYTHONPATH
exec {interpreter} "$@"
"""


def platforms(arch: str) -> list[str]:
    """pip's platform tags for the image: manylinux_2_28 (Amazon Linux 2023 has glibc 2.34) and 2014 (2_17)."""
    if arch not in ARCHES:
        raise ConfigError(f"--arch {arch!r}: one of {', '.join(ARCHES)} (the EMR application's architecture)")
    return [f"manylinux_2_28_{arch}", f"manylinux2014_{arch}"]


def pip_command(target: Path, arch: str, requirements: Sequence[str]) -> list[str]:
    """The pip install of the pinned wheels for the target platform, as an argument list."""
    # Not --quiet: its "Collecting NAME" lines tell the progress, and its output goes to the log.
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check"]
    command += ["--target", str(target), "--no-deps", "--no-compile", "--only-binary=:all:"]
    command += ["--implementation", "cp", "--python-version", PYTHON_VERSION]
    for tag in platforms(arch):
        command += ["--platform", tag]
    return [*command, *requirements]


def check_interpreter(path: str) -> str:
    if not path.startswith("/") or any(c.isspace() or c in "'\"$`\\;&|<>()" for c in path):
        raise ConfigError(f"--interpreter {path!r}: an absolute path without spaces or shell characters")
    return path


def write_archive(root: Path, out: Path) -> str:
    """tar.gz of ``root``'s contents with every varying field fixed; returns its sha256."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(root).as_posix())
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isdir():
                info.mode = 0o755
                tar.addfile(info)
            elif info.issym():
                info.mode = 0o777
                tar.addfile(info)
            else:
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with path.open("rb") as f:
                    tar.addfile(info, f)
    data = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=data, mtime=0) as gz:
        gz.write(buffer.getvalue())
    out.parent.mkdir(parents=True, exist_ok=True)
    draft = out.with_name(f".{out.name}.partial")
    draft.write_bytes(data.getvalue())
    os.replace(draft, out)
    return hashlib.sha256(data.getvalue()).hexdigest()


def _no_progress(_: str) -> None:
    pass


def run_pip(command: Sequence[str], arch: str, total: int, log: TextIO | None, say: Callable[[str], None]) -> None:
    """Runs pip; its output goes to ``log`` (stdout as it comes, then stderr); ``say`` hears which package
    it is at. A failure is raised with the last line of pip's stderr (its reason)."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as errors:
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=errors, text=True)
        assert process.stdout is not None  # stdout=PIPE
        fetched = 0
        for line in process.stdout:
            if log is not None:
                log.write(line)
            if line.startswith("Collecting "):
                fetched += 1
                say(f"fetching {fetched}/{total}: {line.split()[1]}")
            elif line.startswith("Installing collected packages"):
                say(f"installing {total} packages")
        code = process.wait()
        errors.seek(0)
        text = errors.read()
    if log is not None:
        log.write(text)
    if code != 0:
        reason = (text.strip().splitlines() or ["(no output)"])[-1]
        raise PackError(f"pip could not install the packages for {arch}: {reason}")


def pack(
    out: Path,
    arch: str = "x86_64",
    interpreter: str = DEFAULT_INTERPRETER,
    requirements: Sequence[str] | None = None,
    log: TextIO | None = None,
    say: Callable[[str], None] = _no_progress,
) -> str:
    """Builds the archive at ``out``; returns its sha256. A pip failure is raised with pip's own words.
    pip's output goes to ``log``; ``say`` hears each step (creating the environment, each package, packing)."""
    platforms(arch)
    check_interpreter(interpreter)
    if requirements is None:
        requirements = emr_requirements(arch)
    with tempfile.TemporaryDirectory(prefix="coattail-pack-env-") as tmp:
        say(f"creating the environment for {arch}")
        root = Path(tmp) / "env"
        (root / "bin").mkdir(parents=True)
        wrapper = root / "bin" / "python"
        wrapper.write_text(WRAPPER.format(interpreter=interpreter))
        wrapper.chmod(0o755)
        say(f"fetching {len(requirements)} packages for {arch} (pip)")
        run_pip(pip_command(root / "lib", arch, requirements), arch, len(requirements), log, say)
        say(f"packing {out.name}")
        return write_archive(root, out)


class PackError(RuntimeError):
    """The packages could not be fetched or installed: reported as one line, exit status 1."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        JOB,
        help="pack the jobs' packages (pandas, pyarrow, boto3) for EMR Serverless as a spark.archives tar.gz",
        description=(__doc__ or "").split("\n\n", 1)[0],
    )
    p.add_argument("--out", type=Path, required=True, help="the archive to write, e.g. venv.tar.gz")
    p.add_argument("--arch", default="x86_64", help="the EMR application's architecture: x86_64 or aarch64")
    p.add_argument("--interpreter", default=DEFAULT_INTERPRETER, help="the image's Python 3.11")
    p.add_argument(
        "--requirement", action="append", metavar="NAME==VERSION", help="pack these instead of the jobs' pins"
    )
    p.add_argument(
        "--log",
        type=Path,
        help="write pip's output to this file and each step to stderr as a 'progress: ' line (coattail's spinner)",
    )


PROGRESS_PREFIX = "progress: "


def _say(step: str) -> None:
    print(f"{PROGRESS_PREFIX}{step}", file=sys.stderr, flush=True)


def run_from_args(args: argparse.Namespace) -> int:
    requirements = tuple(args.requirement) if args.requirement else None
    try:
        if args.log is None:
            digest = pack(args.out, args.arch, args.interpreter, requirements)
        else:
            args.log.parent.mkdir(parents=True, exist_ok=True)
            with args.log.open("w", encoding="utf-8") as log:
                digest = pack(args.out, args.arch, args.interpreter, requirements, log, _say)
    except PackError as err:
        print(f"coattail_jobs: {err}", file=sys.stderr)
        return 1
    print(f"{args.out} sha256 {digest}", file=sys.stderr)
    print(digest)
    return 0
