"""pack-env for real: pip fetches manylinux wheels from the package index for this machine's architecture,
the archive is built twice (the same bytes), unpacked, and its ``bin/python`` runs this machine's interpreter
with the archive's packages — the compiled extension of a binary wheel included."""

from __future__ import annotations

import io
import platform
import re
import subprocess
import sys
import tarfile
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.utils import canonicalize_name

from coattail_jobs.__main__ import main
from coattail_jobs.pack_env import emr_requirements, pack, run_pip

JOBS_PY = Path(__file__).resolve().parents[1]
# Small stand-ins for the jobs' pins: a pure-Python wheel and one with a C extension (libyaml).
SMALL = ("six==1.17.0", "pyyaml==6.0.2")


def _interpreter() -> str:
    """This machine's Python 3.11 outside the virtualenv (what the image's /usr/bin/python3.11 is on EMR)."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


def test_the_archive_is_reproducible_and_runs_its_packages_on_a_plain_interpreter(tmp_path: Path) -> None:
    arch = platform.machine()
    first = pack(tmp_path / "a" / "env.tar.gz", arch, _interpreter(), SMALL)
    second = pack(tmp_path / "b" / "env.tar.gz", arch, _interpreter(), SMALL)
    assert first == second
    assert (tmp_path / "a" / "env.tar.gz").read_bytes() == (tmp_path / "b" / "env.tar.gz").read_bytes()

    with tarfile.open(tmp_path / "a" / "env.tar.gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        assert not [n for n in names if n.endswith(".pyc")]
        python = tar.getmember("bin/python")
        assert python.mode == 0o755
        assert any(re.fullmatch(r"lib/yaml/_yaml\.cpython-311-.*\.so", n) for n in names)
        tar.extractall(tmp_path / "environment", filter="tar")

    # As Spark runs it: ./environment/bin/python from another working directory.
    probe = "import six, yaml; print(yaml.__file__); print(six.__file__); print(yaml.__with_libyaml__)"
    out = subprocess.run(
        [str(tmp_path / "environment" / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    lib = tmp_path / "environment" / "lib"
    assert Path(out[0]).is_relative_to(lib), out  # the archive's, not the interpreter's own
    assert Path(out[1]).is_relative_to(lib), out
    assert out[2] == "True"  # the C extension from the manylinux wheel loaded


def _uv() -> str:
    """The pinned uv that built this virtualenv (scripts/python-env.sh), an implementation of the lock format
    independent of pack_env's reading of it."""
    uv = JOBS_PY / ".tools" / "bin" / "uv"
    assert uv.is_file(), "jobs-py/.tools/bin/uv is missing: run make install-py"
    return str(uv)


EXPORT = ("--no-annotate", "--format", "requirements-txt", "--prune", "pyspark")


def test_the_archive_packs_exactly_the_locks_run_time_packages_without_spark() -> None:
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--no-header", *EXPORT],
        cwd=JOBS_PY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    linux = {str(k): str(v) for k, v in default_environment().items()}
    linux.update(sys_platform="linux", platform_machine="x86_64")
    linux["platform_system"] = "Linux"
    wanted = []
    for line in exported:
        requirement, _, marker = line.partition(";")
        if not marker.strip() or Marker(marker.strip()).evaluate(linux):
            wanted.append(requirement.strip())
    assert list(emr_requirements("x86_64")) == sorted(wanted)
    assert not any(r.startswith(("pyspark==", "py4j==")) for r in wanted)
    declared = tomllib.loads((JOBS_PY / "pyproject.toml").read_text())["project"]["dependencies"]
    runtime = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower() for d in declared} - {"pyspark"}
    assert runtime <= {r.split("==")[0] for r in wanted}


def test_the_lock_is_the_resolution_of_pyproject() -> None:
    """`uv sync --frozen` installs the lock as it is: a range changed in pyproject.toml must reach it."""
    check = subprocess.run([_uv(), "lock", "--check", "--offline"], cwd=JOBS_PY, capture_output=True, text=True)
    assert check.returncode == 0, (
        "jobs-py/pyproject.toml and uv.lock disagree: run `.tools/bin/uv lock` in jobs-py (it keeps the other "
        f"pins; `make lock` upgrades them all)\n{check.stderr}"
    )


def test_the_virtualenv_the_tests_run_in_is_the_lock() -> None:
    """Every package installed here is at its locked version, and every locked one is installed: what the
    tests pass with is what the lock (and so pack-env) names, whatever the package index offers today."""
    locked = {p["name"]: p["version"] for p in tomllib.loads((JOBS_PY / "uv.lock").read_text())["package"]}
    installed = {str(canonicalize_name(d.metadata["Name"])): d.version for d in distributions()}
    installed.pop("coattail-jobs")
    assert {n: v for n, v in installed.items() if locked.get(n) != v} == {}
    assert {r.split("==")[0]: r.split("==")[1] for r in emr_requirements()}.items() <= installed.items()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--arch", "sparc"],
            "coattail_jobs: --arch 'sparc': one of x86_64, aarch64 (the EMR application's architecture)",
        ),
        (
            ["--interpreter", "python3; rm -rf /"],
            "coattail_jobs: --interpreter 'python3; rm -rf /': an absolute path without spaces or shell characters",
        ),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    argv: list[str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack-env", "--out", str(tmp_path / "e.tar.gz"), *argv]) == 2
    assert capsys.readouterr().err.strip() == line
    assert not (tmp_path / "e.tar.gz").exists()


def test_a_package_pip_cannot_get_is_one_line_exit_1_and_no_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "e.tar.gz"
    code = main(["pack-env", "--out", str(out), "--requirement", "coattail-no-such-package==0.0.1"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("coattail_jobs: pip could not install the packages for x86_64: ")
    assert "coattail-no-such-package" in err[0]
    assert not out.exists()


def test_with_a_log_pips_output_goes_there_and_each_step_is_a_progress_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "e.tar.gz"
    log = tmp_path / "logs" / "pack-env.log"
    argv = ["pack-env", "--out", str(out), "--requirement", "coattail-no-such-package==0.0.1", "--log", str(log)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[:2] == [
        "progress: creating the environment for x86_64",
        "progress: fetching 1 packages for x86_64 (pip)",
    ]
    assert err[2].startswith("coattail_jobs: pip could not install the packages for x86_64: ")
    assert len(err) == 3
    assert "No matching distribution found for coattail-no-such-package==0.0.1" in log.read_text()
    assert not out.exists()


def test_pips_collecting_lines_say_which_package_it_is_at(tmp_path: Path) -> None:
    # A stand-in for pip printing what pip prints, and a reason on stderr.
    fake_pip = [
        sys.executable,
        "-c",
        "import sys; print('Collecting a==1'); print('  Downloading a-1.whl'); print('Collecting b==2'); "
        "print('Installing collected packages: a, b'); print('done', file=sys.stderr)",
    ]
    said: list[str] = []
    log = io.StringIO()
    run_pip(fake_pip, "x86_64", 2, log, said.append)
    assert said == ["fetching 1/2: a==1", "fetching 2/2: b==2", "installing 2 packages"]
    assert log.getvalue() == (
        "Collecting a==1\n  Downloading a-1.whl\nCollecting b==2\nInstalling collected packages: a, b\ndone\n"
    )
