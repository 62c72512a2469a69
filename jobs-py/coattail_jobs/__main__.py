"""``python -m coattail_jobs <command> [options]``: every job and tool of the package, one entry point.

Streaming jobs: raw-archiver, volume-anomaly, whale-detector, spread-calculator. Locally they read the
Kinesis emulator and write the local Iceberg warehouse and dynalite; with ``--mode emr`` the SparkConf
comes from the EMR Serverless job run and they read Kinesis, write Glue/S3 Iceberg tables and DynamoDB.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import jars, pack_env, spark_log
from .config import ConfigError, JobConfig, check_locations, emr_spark_conf, local_spark_conf
from .ddl import write_all
from .jobs.catalog import BATCH, CATALOG, STREAMING_JOBS, catalog_json, catalog_text, names, streaming_job_named
from .replay.cli import add_replay_parser, run_replay_from_args

if TYPE_CHECKING:
    from pyspark.sql.streaming.query import StreamingQuery

# The Glue catalog's warehouse; the DDL's table locations (ddl.LOCATION_TEMPLATE) lie under it.
EMR_WAREHOUSE_TEMPLATE = "s3://${bucket}/warehouse"


def add_job_options(p: argparse.ArgumentParser, *, job_qualified: bool = False) -> None:
    env = os.environ.get
    p.add_argument("--mode", choices=("local", "emr"), default=env("COATTAIL_MODE", "local"))
    p.add_argument("--stream", default=env("COATTAIL_STREAM", "coattail-trades"))
    p.add_argument("--region", default=env("AWS_REGION", "us-east-1"))
    p.add_argument("--kinesis-endpoint", default=env("COATTAIL_KINESIS_ENDPOINT"))
    p.add_argument("--dynamodb-endpoint", default=env("COATTAIL_DYNAMODB_ENDPOINT"))
    p.add_argument("--alerts-table", default=env("COATTAIL_ALERTS_TABLE", "coattail-alerts"))
    p.add_argument("--warehouse", default=env("COATTAIL_WAREHOUSE", ".coattail/warehouse"))
    p.add_argument("--checkpoint-root", default=env("COATTAIL_CHECKPOINT_ROOT", ".coattail/checkpoints"))
    p.add_argument("--raw-root", default=env("COATTAIL_RAW_ROOT", ".coattail/raw"))
    p.add_argument("--watermark", default=env("COATTAIL_WATERMARK"), help="late-data allowance (default 2 minutes)")
    p.add_argument("--trigger", default=env("COATTAIL_TRIGGER"), help="micro-batch interval (default 5 seconds)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="JOB:NAME=VALUE" if job_qualified else "NAME=VALUE",
        help=(
            "override one job's setting, e.g. whale-detector:threshold=250000"
            if job_qualified
            else "override a setting, e.g. whale_threshold=250000"
        ),
    )


def job_config(job: str, args: argparse.Namespace) -> JobConfig:
    """The job's settings: defaults, then the options, then the --set overrides (same names and checks as
    replay), so a setting named for one job wins over an option given to all."""
    timing = {k: v for k, v in (("watermark", args.watermark), ("trigger", args.trigger)) if v is not None}
    options = JobConfig(
        job=job,
        mode=args.mode,
        stream=args.stream,
        region=args.region,
        kinesis_endpoint=args.kinesis_endpoint,
        dynamodb_endpoint=args.dynamodb_endpoint,
        alerts_table=args.alerts_table,
        warehouse=args.warehouse,
        checkpoint_root=args.checkpoint_root,
        raw_root=args.raw_root,
        **timing,
    )
    return streaming_job_named(job).configure(args.set, base=options)


def pipeline_configs(args: argparse.Namespace) -> list[JobConfig]:
    """One JobConfig per job of ``--jobs``; ``--set JOB:NAME=VALUE`` goes to that job only."""
    streaming = names(STREAMING_JOBS)
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    unknown = [j for j in jobs if j not in streaming]
    if not jobs or unknown:
        raise ConfigError(f"--jobs {args.jobs!r}: name one or more of {', '.join(streaming)}, comma-separated")
    per_job: dict[str, list[str]] = {job: [] for job in jobs}
    for item in args.set:
        job, sep, assignment = item.partition(":")
        if not sep or job not in streaming:
            raise ConfigError(
                f"--set {item!r} is not JOB:NAME=VALUE: write it like --set whale-detector:trigger=1 second"
            )
        if job in per_job:
            per_job[job].append(assignment)
    return [job_config(job, argparse.Namespace(**{**vars(args), "set": per_job[job]})) for job in jobs]


def run_pipeline(configs: list[JobConfig], *, warm_up: bool = False) -> int:
    """Starts every job's queries in one Spark application and runs until they stop or a signal comes.

    SIGINT and SIGTERM stop the queries cleanly (each finishes or abandons its micro-batch; the checkpoint
    replays it on the next start). stdout carries two JSON lines for whoever runs this: ``started`` once
    every query is running, ``stopped`` with the rows in each Iceberg table at the end and, per job, the rows
    its watermarks dropped (``late_rows``). ``warm_up`` runs each job's ``JobRunner.warm_up`` first (a failed
    warm-up is logged and the jobs start anyway).
    """
    from pyspark.errors import StreamingQueryException
    from pyspark.sql import SparkSession

    from .run import JobRunner
    from .schemas import TABLES
    from .sources import kinesis_source

    for config in configs:
        check_locations(config)
    first = configs[0]
    builder = SparkSession.builder.appName("coattail-" + "+".join(c.job for c in configs))
    if first.mode == "local":
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in local_spark_conf(first).items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        # Only a flag: the main thread is inside a py4j call, which resumes and returns within a second.
        logging.getLogger(__name__).info("signal %d: stopping %s", signum, ", ".join(c.job for c in configs))
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    queries = []
    runners: list[JobRunner] = []
    late = {config.job: 0 for config in configs}  # rows each job's watermarks dropped, for `stopped`
    try:
        runners = [JobRunner(spark, config) for config in configs]
        if warm_up:
            for runner in runners:
                try:
                    runner.warm_up()
                except Exception as err:  # start-up speed only: the streams are what matters
                    logging.getLogger(__name__).warning(
                        "%s: warm-up failed (%s); the first micro-batches will be slower", runner.config.job, err
                    )
        for runner in runners:
            queries.extend(runner.start(kinesis_source(spark, runner.config)))
        _emit({"event": "started", "jobs": [c.job for c in configs], "queries": [q.name for q in queries]})
        report_every_s = min(runner.watermark_report_every_s for runner in runners)
        next_report = time.monotonic() + report_every_s
        while not stop.is_set() and all(q.isActive for q in queries):
            try:
                spark.streams.awaitAnyTermination(1)
            except StreamingQueryException:
                break  # reported below, with every other failed query
            if time.monotonic() >= next_report:
                for runner in runners:
                    late[runner.config.job] += runner.report_watermark_drops()
                next_report = time.monotonic() + report_every_s
    finally:
        # A query that ended by itself failed; one we stop may end with the interruption's error, which
        # is no failure (its batch is replayed from the checkpoint on the next start).
        failed = [q for q in queries if not q.isActive and q.exception() is not None]
        for q in queries:
            _stop_between_batches(q)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for q in failed:
        print(f"coattail_jobs: query {q.name} failed: {q.exception()}", file=sys.stderr)
    for runner in runners:
        late[runner.config.job] += runner.report_watermark_drops()  # the last micro-batches'
    rows = {
        spec.name: spark.table(first.table(spec.name)).count()
        for spec in TABLES
        if spec.name != "anomalies_reprocessed"
    }
    _emit({"event": "stopped", "failed": [q.name for q in failed], "rows": rows, "late_rows": late})
    return 1 if failed else 0


def _stop_between_batches(query: StreamingQuery, patience_s: float = 30.0) -> None:
    """Stop once the running micro-batch (if any) is done: stopping mid-batch is safe (the checkpoint replays
    it) but interrupts its writes with a screenful of errors. After ``patience_s`` it stops anyway."""
    deadline = time.monotonic() + patience_s
    if query.isActive and query.status.get("isTriggerActive"):
        logging.getLogger(__name__).info(
            "waiting up to %.0f s for %s to finish its micro-batch", patience_s, query.name
        )
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.2)
    query.stop()


def _emit(event: dict[str, object]) -> None:
    print(json.dumps(event), flush=True)


def run_streaming_job(config: JobConfig) -> int:
    """One job's queries on Kinesis until they stop (Ctrl-C or SIGTERM stops them cleanly)."""
    return run_pipeline([config])


def spark_conf_json(target: str, warehouse: str) -> str:
    """The SparkConf as JSON. ``emr``: the template `coattail jobs submit` sends (it fills in ``${bucket}``),
    checked in as jobs-py/emr-spark-conf.json; ``local``: what `coattail jobs submit --local` gives spark-submit."""
    if target == "emr":
        conf = emr_spark_conf(JobConfig(job="emr", mode="emr"), EMR_WAREHOUSE_TEMPLATE)
    else:
        conf = local_spark_conf(JobConfig(job="local", warehouse=warehouse))
    return json.dumps(conf, indent=2, sort_keys=True) + "\n"


Command = Callable[[argparse.Namespace], int]


def _streaming_command(job: str) -> Command:
    return lambda args: run_streaming_job(job_config(job, args))


def _write_ddl(args: argparse.Namespace) -> int:
    for path in write_all(args.out):
        print(path, file=sys.stderr)
    return 0


def _print_spark_conf(args: argparse.Namespace) -> int:
    text = spark_conf_json(args.target, args.warehouse)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _apply_ddl_locally(args: argparse.Namespace) -> int:
    from .ddl_local import run_from_stdin

    return run_from_stdin(args.warehouse)


def _print_catalog(args: argparse.Namespace) -> int:
    text = catalog_json() if args.json else catalog_text()
    if args.out:
        staging = args.out.with_name(f".{args.out.name}.partial")
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, args.out)  # a reader never sees half a catalogue
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    # Before logging takes sys.stderr: the job's own lines keep the terminal, Spark's go to the log file.
    spark_log.divert_spark_output()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its connection chatter is not ours to show
    parser = argparse.ArgumentParser(
        prog="python -m coattail_jobs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Command] = {}
    for job in STREAMING_JOBS:
        add_job_options(sub.add_parser(job.name, help=f"run the {job.name} streaming job"))
        commands[job.name] = _streaming_command(job.name)
    pipeline = sub.add_parser(
        "pipeline",
        help="run several streaming jobs in one Spark application (the local demo)",
        description="Every job's queries in one Spark application; each job keeps its own checkpoints.",
    )
    add_job_options(pipeline, job_qualified=True)
    pipeline.add_argument(
        "--jobs", default=",".join(names(STREAMING_JOBS)), help="comma-separated jobs (default: all four)"
    )
    pipeline.add_argument(
        "--warm-up",
        action="store_true",
        help="before the streams start, run whale-detector's write path once on a synthetic whale in scratch "
        "tables (dropped after): its first whales then wait seconds, not tens of seconds",
    )
    commands["pipeline"] = lambda args: run_pipeline(pipeline_configs(args), warm_up=args.warm_up)
    add_replay_parser(sub)
    commands["replay"] = run_replay_from_args
    for job in CATALOG:
        if job.kind == BATCH and job.entry is not None:
            job.entry.add_parser(sub)
            commands[job.name] = job.entry.run_from_args
    pack_env.add_parser(sub)
    commands[pack_env.JOB] = pack_env.run_from_args
    jars.add_parser(sub)
    commands["jars"] = jars.run_from_args
    ddl = sub.add_parser("ddl", help="write the Athena DDL (one file per table) rendered from the schemas")
    ddl.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "ddl", help="folder to write to")
    commands["ddl"] = _write_ddl
    conf = sub.add_parser("spark-conf", help="print the SparkConf of EMR (the submit template) or local mode as JSON")
    conf.add_argument("target", choices=("emr", "local"))
    conf.add_argument("--warehouse", default=os.environ.get("COATTAIL_WAREHOUSE", ".coattail/warehouse"))
    conf.add_argument("--out", type=Path, help="write the JSON to this file instead of stdout")
    commands["spark-conf"] = _print_spark_conf
    apply = sub.add_parser(
        "ddl-apply-local", help="apply Athena DDL statements (a JSON plan on stdin) to the local Iceberg warehouse"
    )
    apply.add_argument("--warehouse", default=os.environ.get("COATTAIL_WAREHOUSE", ".coattail/warehouse"))
    commands["ddl-apply-local"] = _apply_ddl_locally
    catalog = sub.add_parser(
        "catalog",
        help="print the catalogue of jobs: kind, queries, tables, settings (src/spark/jobs-catalog.json)",
        description="Every job of the package, in order, with its queries, the tables it writes and its settings.",
    )
    catalog.add_argument("--json", action="store_true", help="as JSON (sorted keys), what the TypeScript side reads")
    catalog.add_argument("--out", type=Path, help="write it to this file instead of stdout")
    commands["catalog"] = _print_catalog
    args = parser.parse_args(argv)
    try:
        return int(commands[args.command](args))
    except ConfigError as err:
        print(f"coattail_jobs: {err}", file=sys.stderr)
        return 2
    except jars.JarsError as err:  # local Spark could not get its jars: nothing started
        print(f"coattail: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
