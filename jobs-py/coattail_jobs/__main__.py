"""``python -m coattail_jobs <command> [options]``: every job and tool of the package, one entry point.

Streaming jobs: raw-archiver, volume-anomaly, whale-detector, spread-calculator. Locally they read the
Kinesis emulator and write the local Iceberg warehouse and dynalite; with ``--mode emr`` the SparkConf
comes from the EMR Serverless job run and they read Kinesis, write Glue/S3 Iceberg tables and DynamoDB.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from .config import ConfigError, JobConfig, check_locations, local_spark_conf
from .ddl import write_all
from .replay import ReplayUsageError, add_replay_parser, replay_config, run_replay_from_args

STREAMING_JOBS = ("raw-archiver", "volume-anomaly", "whale-detector", "spread-calculator")


def add_job_options(p: argparse.ArgumentParser) -> None:
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
        metavar="NAME=VALUE",
        help="override a setting, e.g. whale_threshold=250000",
    )


def job_config(job: str, args: argparse.Namespace) -> JobConfig:
    """The job's settings: --set overrides (the same names and checks as replay), then the options."""
    timing = {k: v for k, v in (("watermark", args.watermark), ("trigger", args.trigger)) if v is not None}
    return replace(
        replay_config(job, args.set),
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


def run_streaming_job(config: JobConfig) -> int:
    """Starts the job's queries on Kinesis and runs until they stop (Ctrl-C stops them cleanly)."""
    from pyspark.sql import SparkSession

    from .run import JobRunner
    from .sources import kinesis_source

    check_locations(config)
    builder = SparkSession.builder.appName(f"coattail-{config.job}")
    if config.mode == "local":
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in local_spark_conf(config, ivy_dir=str(Path(__file__).resolve().parents[1] / ".ivy")).items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    queries = JobRunner(spark, config).start(kinesis_source(spark, config))
    try:
        spark.streams.awaitAnyTermination()
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("stopping %s", config.job)
    finally:
        for q in queries:
            q.stop()
    failed = [q for q in queries if q.exception() is not None]
    for q in failed:
        print(f"coattail_jobs: {config.job}: query {q.name} failed: {q.exception()}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its connection chatter is not ours to show
    parser = argparse.ArgumentParser(
        prog="python -m coattail_jobs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for job in STREAMING_JOBS:
        add_job_options(sub.add_parser(job, help=f"run the {job} streaming job"))
    add_replay_parser(sub)
    ddl = sub.add_parser("ddl", help="write the Athena DDL (one file per table) rendered from the schemas")
    ddl.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "ddl", help="folder to write to")
    args = parser.parse_args(argv)
    try:
        if args.command == "ddl":
            for path in write_all(args.out):
                print(path, file=sys.stderr)
            return 0
        if args.command == "replay":
            return int(run_replay_from_args(args))
        return run_streaming_job(job_config(args.command, args))
    except (ReplayUsageError, ConfigError) as err:
        print(f"coattail_jobs: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
