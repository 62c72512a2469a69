"""The Spark jars of local mode, fetched once into one folder before any Spark application starts.

Local Spark needs two jars that pyspark does not ship: the Iceberg runtime and the Kinesis source
(``ICEBERG_RUNTIME``, ``LOCAL_KINESIS_PACKAGE``). Resolving them with ``spark.jars.packages``
makes every application run Ivy at start-up into a shared cache, and two applications starting at once on
an empty cache read each other's half-written files (the demo starts two). Here they are downloaded once,
under an exclusive lock, each checked against the size and SHA-256 pinned below (taken from Maven Central,
whose published SHA-1 they also match), written to a temporary name and renamed into place, so a jar in the
folder is always whole. Applications then name the files in ``spark.jars``; nothing resolves at start-up.

Settings: ``COATTAIL_MAVEN_REPO`` (one or more Maven repository URLs, comma-separated, tried in order: a
company mirror or a proxy's repository; default Maven Central) and ``COATTAIL_JARS_DIR`` (default
``jobs-py/.jars`` in a checkout; for an installed coattail the per-user data folder's ``jars``, as
src/core/dirs.ts ``userDataDir`` has it: ``$XDG_DATA_HOME/coattail/jars``, else ``~/.local/share/coattail/jars``).
HTTP(S) proxies come from the usual ``https_proxy``/``http_proxy``/``no_proxy``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ICEBERG_VERSION = "1.10.1"
ICEBERG_RUNTIME = f"org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:{ICEBERG_VERSION}"
# Locally Kinesis is the emulator, read by the open-source connector (see sources.py for why).
LOCAL_KINESIS_PACKAGE = "com.qubole.spark:spark-sql-kinesis_2.12:1.2.0_spark-3.0"

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
JOBS_PY = Path(__file__).resolve().parents[1]
CHUNK = 1 << 16
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Jar:
    coordinate: str  # group:artifact:version
    size: int
    sha256: str

    @property
    def file_name(self) -> str:
        _, artifact, version = self.coordinate.split(":")
        return f"{artifact}-{version}.jar"

    def path_in(self, repo: str) -> str:
        group, artifact, version = self.coordinate.split(":")
        return f"{repo.rstrip('/')}/{group.replace('.', '/')}/{artifact}/{version}/{self.file_name}"


JARS: tuple[Jar, ...] = (
    Jar(ICEBERG_RUNTIME, 47_140_434, "39ea09e6c03550a300b9d9ab498949836d2d434e441da4c12a943a086e396940"),
    Jar(LOCAL_KINESIS_PACKAGE, 19_589_595, "ddc957a327dc7076bfcde4c015ff0d0bdf3ed7551587ba2a27399b48650d3f38"),
)


class JarsError(RuntimeError):
    """The jars could not be fetched: reported as one line (what, why, what to do), exit status 1."""

    def __init__(self, what: str, why: str, fix: str) -> None:
        super().__init__(f"{what}: {why}. {fix}")
        self.what, self.why, self.fix = what, why, fix


def default_dir() -> Path:
    if (JOBS_PY / "pyproject.toml").is_file():  # a checkout (or an editable install of one)
        return JOBS_PY / ".jars"
    # Installed into site-packages: nothing is written beside the package; the user's data folder holds the jars.
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "coattail" / "jars"


def jars_dir() -> Path:
    configured = os.environ.get("COATTAIL_JARS_DIR")
    return Path(configured).expanduser().resolve() if configured else default_dir()


def repositories() -> list[str]:
    configured = os.environ.get("COATTAIL_MAVEN_REPO", "")
    repos = [r.strip() for r in configured.split(",") if r.strip()]
    return repos or [MAVEN_CENTRAL]


def _present(folder: Path, jars: tuple[Jar, ...]) -> bool:
    # A jar is only ever renamed into place after its checksum matched, so a file of the right size is it.
    return all((folder / j.file_name).is_file() and (folder / j.file_name).stat().st_size == j.size for j in jars)


def _unwritable(folder: Path, err: OSError) -> JarsError:
    return JarsError(
        f"cannot write the Spark jars folder {folder}",
        err.strerror or str(err),
        "Set COATTAIL_JARS_DIR to a writable folder with 70 MB free",
    )


@contextlib.contextmanager
def _locked(folder: Path, out: TextIO) -> Iterator[None]:
    try:
        lock_file = (folder / ".lock").open("a")
    except OSError as err:
        raise _unwritable(folder, err) from err
    with lock_file as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"coattail: waiting for another process fetching the Spark jars into {folder}", file=out, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.0f} MB"


def _download(jar: Jar, repo: str, target: Path, out: TextIO) -> None:
    """One jar from one repository to ``target``, checked. The repository's failures raise OSError or
    ValueError (the next repository is tried); this machine's (the folder cannot be written) JarsError."""
    url = jar.path_in(repo)
    draft = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    got = 0
    shown = -1
    live = out.isatty()
    # Off a terminal, coattail's own progress asks for whole lines instead (a line per 10 %, "progress: ...").
    lines = not live and os.environ.get("COATTAIL_PROGRESS_LINES") == "1"
    try:
        try:
            f = draft.open("wb")
        except OSError as err:
            raise _unwritable(target.parent, err) from err
        with f, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            while chunk := response.read(CHUNK):
                got += len(chunk)
                if got > jar.size:
                    raise ValueError(f"not the pinned jar (more than its {jar.size} bytes)")
                try:
                    f.write(chunk)
                except OSError as err:
                    raise _unwritable(target.parent, err) from err
                digest.update(chunk)
                percent = got * 100 // jar.size
                if live and percent != shown and percent <= 100:
                    shown = percent
                    print(f"\r  {jar.file_name} {percent:3d}%", end="", file=out, flush=True)
                elif lines and percent // 10 != shown // 10 and percent <= 100:
                    shown = percent
                    print(f"progress: {jar.file_name} {percent}%", file=out, flush=True)
        if live:
            print(file=out, flush=True)
        if got != jar.size or digest.hexdigest() != jar.sha256:
            raise ValueError(
                f"not the pinned jar ({got} bytes, sha256 {digest.hexdigest()[:12]}…; pinned {jar.size} bytes, "
                f"sha256 {jar.sha256[:12]}…)"
            )
        try:
            os.replace(draft, target)
        except OSError as err:
            raise _unwritable(target.parent, err) from err
    finally:
        draft.unlink(missing_ok=True)


def ensure_jars(out: TextIO | None = None, folder: Path | None = None, jars: tuple[Jar, ...] = JARS) -> list[Path]:
    """The local jars' paths, downloading the missing ones first (once, under a lock)."""
    out = out if out is not None else sys.stderr
    folder = folder if folder is not None else jars_dir()
    if _present(folder, jars):
        return [folder / j.file_name for j in jars]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise JarsError(
            f"cannot create the Spark jars folder {folder}",
            str(err.strerror),
            "Set COATTAIL_JARS_DIR to a writable folder",
        ) from err
    with _locked(folder, out):
        missing = [j for j in jars if not _present(folder, (j,))]
        if missing:
            repos = repositories()
            total = sum(j.size for j in missing)
            print(
                f"coattail: fetching the Spark jars once ({_mb(total)}) from {repos[0]} into {folder}",
                file=out,
                flush=True,
            )
            began = time.monotonic()
            for jar in missing:
                _fetch(jar, repos, folder / jar.file_name, out)
            print(f"coattail: Spark jars ready in {time.monotonic() - began:.0f} s", file=out, flush=True)
    return [folder / j.file_name for j in jars]


def _fetch(jar: Jar, repos: list[str], target: Path, out: TextIO) -> None:
    reasons = []
    for repo in repos:
        try:
            _download(jar, repo, target, out)
            return
        except urllib.error.HTTPError as err:
            reasons.append(f"{repo}: HTTP {err.code} {err.reason}")
        except urllib.error.URLError as err:
            reasons.append(f"{repo}: {err.reason}")
        except (OSError, ValueError) as err:
            reasons.append(f"{repo}: {err}")
    raise JarsError(
        f"cannot fetch the Spark jar {jar.coordinate}",
        "; ".join(reasons),
        "Check the network or proxy (https_proxy), or set COATTAIL_MAVEN_REPO to a reachable Maven repository",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _add_options(
        sub.add_parser(
            "jars",
            help="fetch the Spark jars of local mode once (Iceberg runtime, Kinesis source); prints their paths",
            description=(__doc__ or "").split("\n\n", 1)[0],
        )
    )


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help='one JSON line: {"jars": [...]} or {"error": {what, why, fix}}')


def run_from_args(args: argparse.Namespace) -> int:
    try:
        paths = ensure_jars()
    except JarsError as err:
        if args.json:
            print(json.dumps({"error": {"what": err.what, "why": err.why, "fix": err.fix}}))
        else:
            print(f"coattail: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"jars": [str(p) for p in paths]}))
    else:
        for path in paths:
            print(path)
    return 0


if __name__ == "__main__":
    # ``python -m coattail_jobs.jars``: the same, without importing the jobs (and pyspark) first.
    parser = argparse.ArgumentParser(prog="python -m coattail_jobs.jars", description=(__doc__ or "").split("\n\n")[0])
    _add_options(parser)
    sys.exit(run_from_args(parser.parse_args()))
