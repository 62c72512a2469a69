"""Where one replay's time goes: ``python bench/replay_phases.py JOB --input trades.jsonl [--input more.jsonl]``.

Runs ``coattail_jobs.replay.runner.run_replay`` in this process, once per ``--input`` (one Spark session for all,
so start-up is paid once and left out), with timers around its phases: planning the micro-batches
(Python, per line), each streaming query's ``processAllAvailable`` (the quality step and the job's
transform), the queries over an earlier query's rows (volume-anomaly's second), and the final files: per
output, the time Spark takes to dedupe, sort and hand rows over (inside ``toLocalIterator``) apart from
the time Python spends turning them into JSON lines. Prints one JSON object per input on stdout.

It wraps the replay's private methods by name, so it follows coattail_jobs/replay/runner.py: when one is
renamed it stops with the name it could not find.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql.streaming.query import StreamingQuery

from coattail_jobs.jobs.catalog import REPLAY_JOBS, names
from coattail_jobs.replay import runner
from coattail_jobs.replay.cli import replay_session
from coattail_jobs.replay.outputs import Output
from coattail_jobs.replay.runner import replay_config, run_replay

# The wrapped methods take and return whatever the replay's do: Any is the honest type of a pass-through.
Fn = Callable[..., Any]


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.query_names: dict[str, str] = {}
        self.fetch_s = 0.0

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def timed(self, name: str, fn: Fn) -> Fn:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return wrapper


def _original(owner: object, name: str) -> Fn:
    fn: object = getattr(owner, name, None)
    if not callable(fn):
        raise SystemExit(f"replay_phases: {owner!r} has no {name} any more: update bench/replay_phases.py")
    return fn


def instrument(timers: Timers) -> None:
    """Wraps the replay's phases (for the life of this process)."""
    cls = runner._Replay
    cls._plan = timers.timed("plan_micro_batches", _original(cls, "_plan"))  # type: ignore[method-assign]
    cls._table_query = timers.timed("table_queries", _original(cls, "_table_query"))  # type: ignore[method-assign]
    cls._write_outputs = timers.timed("write_outputs", _original(cls, "_write_outputs"))  # type: ignore[method-assign]

    start = _original(cls, "_start")

    def named_start(self: object, writer: object, name: str) -> StreamingQuery:
        query: StreamingQuery = start(self, writer, name)
        timers.query_names[str(query.id)] = name
        return query

    cls._start = named_start  # type: ignore[method-assign]

    process = _original(StreamingQuery, "processAllAvailable")

    def timed_process(query: StreamingQuery) -> None:
        started = time.perf_counter()
        try:
            process(query)
        finally:
            timers.add(f"query_{timers.query_names.get(str(query.id), 'other')}", time.perf_counter() - started)

    StreamingQuery.processAllAvailable = timed_process  # type: ignore[assignment,method-assign]

    write_ndjson = _original(runner, "write_ndjson")  # as the runner calls it

    def timed_write(rows: DataFrame, output: Output, path: Path) -> int:
        fetched_before = timers.fetch_s
        started = time.perf_counter()
        count: int = write_ndjson(rows, output, path)
        total = time.perf_counter() - started
        fetch = timers.fetch_s - fetched_before
        timers.add(f"file_{output.name}_spark", fetch)
        timers.add(f"file_{output.name}_python", total - fetch)
        return count

    vars(runner)["write_ndjson"] = timed_write  # where the runner looks it up

    to_local = _original(DataFrame, "toLocalIterator")

    def timed_iterator(df: DataFrame, prefetchPartitions: bool = False) -> Iterator[Any]:  # Spark's parameter name
        started = time.perf_counter()
        rows = iter(to_local(df, prefetchPartitions))
        timers.fetch_s += time.perf_counter() - started
        while True:
            started = time.perf_counter()
            try:
                row = next(rows)
            except StopIteration:
                timers.fetch_s += time.perf_counter() - started
                return
            timers.fetch_s += time.perf_counter() - started
            yield row

    DataFrame.toLocalIterator = timed_iterator  # type: ignore[assignment,method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/replay_phases.py", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("job", choices=names(REPLAY_JOBS))
    parser.add_argument("--input", type=Path, action="append", required=True, help="a recording (repeatable)")
    args = parser.parse_args(argv)
    timers = Timers()
    instrument(timers)
    spark = replay_session()
    try:
        for recording in args.input:
            timers.seconds.clear()
            with tempfile.TemporaryDirectory(prefix="coattail-replay-phases-") as out:
                started = time.perf_counter()
                summary = run_replay(spark, replay_config(args.job, []), recording.resolve(), Path(out))
                total = time.perf_counter() - started
            phases = {name: round(s, 2) for name, s in timers.seconds.items()}
            # file_* are parts of write_outputs; what no phase covers is set-up and query start-up.
            covered = sum(s for name, s in timers.seconds.items() if not name.startswith("file_"))
            phases["other"] = round(total - covered, 2)
            result = {"job": args.job, "records": summary.records, "total_s": round(total, 2), "phases_s": phases}
            print(json.dumps(result), flush=True)
            print(json.dumps(result, indent=1), file=sys.stderr)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
