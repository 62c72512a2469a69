"""Replay throughput of each job, and how it grows with the recording: ``make bench-replay``.

``python bench/replay_bench.py [--recording FILE] [--sizes 100000,300000,1000000] [--jobs a,b] [--rounds N]
[--driver-memory 3g]``

One run: a recording of simulated unified trades (generated with ``node dist/bench/run.js trades`` unless
``--recording`` is given) and its prefixes; then, per size in increasing order, the baseline
(``bench/baseline.py``: read the NDJSON, ``parse_trades``, write NDJSON, in the replay's Spark session) and
``python -m coattail_jobs replay <job> ... --json`` for each job, every one its own process, as analysts
run it. Rounds repeat the whole sequence (interleaved, so machine noise hits all alike); medians are kept.

Per (job, size): wall seconds, trades/s, the ratio of trades/s to the baseline's at that size, and CPU
seconds of the whole process tree (the JVM and Python workers included: this process becomes their
subreaper, so it collects them when they exit). Per job, for scaling: time(largest)/time(smallest), the
marginal rate (largest - smallest) / (t_largest - t_smallest), which leaves out the fixed cost (JVM
start-up, query planning), the fixed cost it implies, and the marginal rate of each step between sizes
(a job whose per-trade cost grows with the recording shows falling step rates).

A run that fails (the replay exits non-zero: out of memory, say) is recorded with its cause and how long
it ran, the others go on, and the exit status is 1. ``--driver-memory 3g`` gives every Spark process here
(baseline included) that heap instead of Spark's default 1g.

JSON on stdout; progress on stderr. Linux only (``prctl`` and the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise
from pathlib import Path
from typing import TypedDict

from process_tree import BenchError, Measured, RunFailed, become_subreaper, load_average, measure

from coattail_jobs.jobs.catalog import REPLAY_JOBS, names

JOBS_PY = Path(__file__).resolve().parents[1]
REPO = JOBS_PY.parent
BASELINE = "baseline"
JOBS = names(REPLAY_JOBS)
DEFAULT_SIZES = (100_000, 300_000, 1_000_000)


# ---------------------------------------------------------------- the recording


def generate_recording(trades: int, file: Path, log: Path) -> dict[str, object]:
    """``node dist/bench/run.js trades``: the simulator's trades, as `coattail ingest --sink stdout` prints them."""
    runner = REPO / "dist" / "bench" / "run.js"
    if not runner.is_file():
        raise BenchError(f"cannot generate the recording: {runner} is missing: run `make build` first")
    measured = measure(["node", str(runner), "trades", "--count", str(trades), "--out", str(file)], log, REPO)
    result = json.loads(measured.stdout)["trades"]
    if not isinstance(result, dict):
        raise BenchError(f"unexpected output from {runner}: {measured.stdout[:200]}")
    return {str(k): v for k, v in result.items()}


def count_lines(file: Path) -> int:
    with file.open("rb") as handle:
        return sum(1 for _ in handle)


def write_prefix(recording: Path, lines: int, dest: Path) -> Path:
    """The first ``lines`` lines of the recording, as its own file (a recording in arrival order)."""
    with recording.open("rb") as source, dest.open("wb") as out:
        out.writelines(islice(source, lines))
    return dest


# ---------------------------------------------------------------- one run of each kind


@dataclass
class Run:
    """One measured command; ``error`` (the cause line) when it failed, timed up to the failure."""

    job: str
    size: int
    wall_s: float
    cpu_s: float
    load: tuple[float, float]
    summary: dict[str, object] = field(default_factory=dict)
    error: str | None = None


def _run(job: str, size: int, command: Sequence[str], work: Path) -> tuple[Run, Measured | None]:
    try:
        m = measure(command, work / "logs" / f"{job}-{size}.log", REPO)
    except RunFailed as failed:
        _progress(f"  FAILED after {failed.wall_s:.1f} s: {failed}")
        return Run(job, size, failed.wall_s, failed.cpu_s, (load_average(), load_average()), error=failed.cause), None
    return Run(job, size, m.wall_s, m.cpu_s, (m.load_before, m.load_after)), m


def run_baseline(recording: Path, size: int, work: Path) -> Run:
    out = work / "out" / f"{BASELINE}-{size}"
    script = JOBS_PY / "bench" / "baseline.py"
    run, measured = _run(
        BASELINE, size, [sys.executable, str(script), "--input", str(recording), "--out", str(out)], work
    )
    if measured is None:
        return run
    written = sum(count_lines(p) for p in out.glob("part-*"))
    shutil.rmtree(out)
    if written != size:
        raise BenchError(f"the baseline wrote {written} trades for a recording of {size}: it did not do the work")
    run.summary = {"records": written}
    return run


def run_replay(job: str, recording: Path, size: int, work: Path) -> Run:
    out = work / "out" / f"{job}-{size}"
    command = [sys.executable, "-m", "coattail_jobs", "replay", job, "--input", str(recording), "--out", str(out)]
    run, measured = _run(job, size, [*command, "--json"], work)
    shutil.rmtree(out, ignore_errors=True)  # a failed run may have written nothing
    if measured is None:
        return run
    summary = json.loads(measured.stdout.strip().splitlines()[-1])
    if not isinstance(summary, dict) or summary.get("records") != size:
        raise BenchError(f"replay {job} read {summary.get('records')!r} records of {size}: the benchmark is off")
    run.summary = summary
    return run


# ---------------------------------------------------------------- results


def _round(value: float, digits: int = 2) -> float:
    return round(value, digits)


def size_results(runs: Sequence[Run]) -> list[dict[str, object]]:
    """Per (job, size), medians over the rounds that succeeded, with the ratio to the baseline's trades/s
    at that size; a (job, size) that never succeeded shows its first error and how long it ran."""
    groups: dict[tuple[str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.job, run.size), []).append(run)
    wall: dict[tuple[str, int], float] = {}
    cpu: dict[tuple[str, int], float] = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r.error is None]
        if ok:
            wall[key] = statistics.median(r.wall_s for r in ok)
            cpu[key] = statistics.median(r.cpu_s for r in ok)
    rows: list[dict[str, object]] = []
    for (job, size), rs in groups.items():
        ok = [r for r in rs if r.error is None]
        failed = [r for r in rs if r.error is not None]
        row: dict[str, object] = {"job": job, "size": size, "rounds": len(ok)}
        key, base = (job, size), (BASELINE, size)
        if key in wall:
            row.update(
                {
                    "wall_s": _round(wall[key]),
                    "trades_per_s": round(size / wall[key]),
                    "ratio_to_baseline": _round(wall[base] / wall[key], 3) if base in wall else None,
                    "cpu_s": _round(cpu[key]),
                    "cpu_ratio_to_baseline": _round(cpu[base] / cpu[key], 3) if base in cpu else None,
                    "micro_batches": ok[-1].summary.get("micro_batches"),
                    "outputs": ok[-1].summary.get("outputs"),
                }
            )
        if len(ok) > 1:
            row["each_round"] = [{"wall_s": _round(r.wall_s), "cpu_s": _round(r.cpu_s)} for r in ok]
        if failed:
            row["failed"] = [{"error": r.error, "after_s": _round(r.wall_s), "cpu_s": _round(r.cpu_s)} for r in failed]
        row["load_1m"] = [_round(r.load[0], 1) for r in rs] + [_round(rs[-1].load[1], 1)]
        rows.append(row)
    return rows


def scaling(rows: Sequence[Mapping[str, object]]) -> dict[str, dict[str, object]]:
    """Per job: how time grows from the smallest to the largest size, with the fixed cost set apart."""
    out: dict[str, dict[str, object]] = {}
    for job in dict.fromkeys(str(r["job"]) for r in rows):
        points = sorted(
            (int(str(r["size"])), float(str(r["wall_s"])), float(str(r["cpu_s"])))
            for r in rows
            if r["job"] == job and "wall_s" in r
        )
        if len(points) < 2:
            continue
        (small, t_small, c_small), (big, t_big, c_big) = points[0], points[-1]
        # Noise can make a larger run no slower than a smaller one: then there is no rate to report.
        marginal = (big - small) / (t_big - t_small) if t_big > t_small else None
        steps = [
            {
                "from": a[0],
                "to": b[0],
                "marginal_per_s": round((b[0] - a[0]) / (b[1] - a[1])) if b[1] > a[1] else None,
                "cpu_marginal_per_s": round((b[0] - a[0]) / (b[2] - a[2])) if b[2] > a[2] else None,
            }
            for a, b in pairwise(points)
        ]
        out[job] = {
            "sizes": [p[0] for p in points],
            "time_ratio": _round(t_big / t_small),
            "size_ratio": _round(big / small),
            "marginal_per_s": None if marginal is None else round(marginal),
            "fixed_s": None if marginal is None else _round(t_small - small / marginal),
            "cpu_time_ratio": _round(c_big / c_small),
            "cpu_marginal_per_s": round((big - small) / (c_big - c_small)) if c_big > c_small else None,
            "steps": steps,
        }
    base = out.get(BASELINE, {}).get("marginal_per_s")
    for result in out.values():
        rate = result["marginal_per_s"]
        # The per-trade speed against the floor's, start-up left out of both.
        ratio = rate / base if isinstance(rate, int) and isinstance(base, int) and base > 0 else None
        result["marginal_ratio_to_baseline"] = None if ratio is None else _round(ratio, 3)
    return out


# ---------------------------------------------------------------- the run


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of trade counts") from None
    if len(sizes) < 2 or sizes[0] <= 0:
        raise argparse.ArgumentTypeError("give at least two positive sizes, e.g. 100000,1000000")
    return sizes


def _jobs(text: str) -> tuple[str, ...]:
    jobs = tuple(j.strip() for j in text.split(",") if j.strip())
    unknown = [j for j in jobs if j not in JOBS]
    if unknown or not jobs:
        raise argparse.ArgumentTypeError(f"unknown job(s) {unknown}: choose from {', '.join(JOBS)}")
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/replay_bench.py",
        description=(__doc__ or "").split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recording", type=Path, help="an NDJSON recording to take (default: generate one)")
    parser.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES, help="trade counts, e.g. 100000,300000,1000000")
    parser.add_argument("--jobs", type=_jobs, default=JOBS, help=f"jobs to replay (default: {','.join(JOBS)})")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole sequence; medians are reported")
    parser.add_argument(
        "--driver-memory", help="the Spark driver's heap for every run, e.g. 3g (default: Spark's own, 1g)"
    )
    parser.add_argument("--work", type=Path, default=REPO / ".coattail" / "bench", help="recordings, outputs, logs")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.driver_memory:
        # The one way to size the driver's JVM before PySpark launches it; every Spark process here inherits it.
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    try:
        result = bench(args.recording, args.sizes, args.jobs, args.rounds, args.work.resolve())
    except BenchError as err:
        print(f"replay_bench: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    failed = [f"{r['job']} over {r['size']:,}" for r in result["results"] if "failed" in r]
    if failed:
        print(f"replay_bench: failed runs (see 'failed' in the results): {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


class Results(TypedDict):
    machine: dict[str, object]
    recording: dict[str, object]
    startup: dict[str, float]
    results: list[dict[str, object]]
    scaling: dict[str, dict[str, object]]


def bench(recording: Path | None, sizes: tuple[int, ...], jobs: tuple[str, ...], rounds: int, work: Path) -> Results:
    become_subreaper()
    work.mkdir(parents=True, exist_ok=True)
    largest = sizes[-1]
    generated: dict[str, object] | None = None
    if recording is None:
        recording = work / f"trades-{largest}.jsonl"
        _progress(f"generating {largest:,} simulated trades into {recording} ...")
        generated = generate_recording(largest, recording, work / "logs" / "generate.log")
        _progress(f"  {generated.get('seconds')} s ({generated.get('trades_per_s'):,} trades/s)")
    available = count_lines(recording)
    if available < largest:
        raise BenchError(f"{recording} has {available:,} trades, fewer than the largest size {largest:,}")
    files = {
        size: recording if size == available else write_prefix(recording, size, work / f"prefix-{size}.jsonl")
        for size in sizes
    }
    _progress("Spark start-up alone (session start and stop) ...")
    startup = measure(
        [sys.executable, str(JOBS_PY / "bench" / "baseline.py"), "--startup"], work / "logs" / "startup.log", REPO
    )
    _progress(f"  {startup.wall_s:.1f} s wall, {startup.cpu_s:.1f} s CPU")
    runs: list[Run] = []
    total = rounds * len(sizes) * (1 + len(jobs))
    for round_index in range(rounds):
        for size in sizes:
            for job in (BASELINE, *jobs):
                _progress(f"[{len(runs) + 1}/{total}] round {round_index + 1}: {job} over {size:,} trades ...")
                run = (
                    run_baseline(files[size], size, work)
                    if job == BASELINE
                    else run_replay(job, files[size], size, work)
                )
                runs.append(run)
                if run.error is None:
                    _progress(
                        f"  {run.wall_s:.1f} s wall ({size / run.wall_s:,.0f} trades/s), {run.cpu_s:.1f} s CPU, "
                        f"load {run.load[0]:.1f} -> {run.load[1]:.1f}"
                    )
    for file in files.values():
        if file != recording:
            file.unlink()
    rows = size_results(runs)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "spark_master": os.environ.get("COATTAIL_SPARK_MASTER") or "local[*]",
            "spark_submit_args": os.environ.get("PYSPARK_SUBMIT_ARGS"),
            "python": sys.version.split()[0],
        },
        "recording": {"file": str(recording), "trades": available, **({"generated": generated} if generated else {})},
        "startup": {"wall_s": _round(startup.wall_s), "cpu_s": _round(startup.cpu_s)},
        "results": rows,
        "scaling": scaling(rows),
    }


if __name__ == "__main__":
    sys.exit(main())
