"""``python -m coattail_jobs replay <job> --input trades.jsonl --out DIR [--set NAME=VALUE ...] [--json]``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession

from ..config import ConfigError
from ..jobs.catalog import REPLAY_JOBS, names
from . import __doc__ as _replay_doc
from .runner import replay_config, run_replay

_EXAMPLES = """examples:
  python -m coattail_jobs replay whale-detector --input trades.jsonl --out backtest/
  python -m coattail_jobs replay whale-detector --input trades.jsonl --out backtest-250k/ --set threshold=250000
  python -m coattail_jobs replay volume-anomaly --input day.jsonl --out va/ --set threshold=3.0 --set min_periods=20
  python -m coattail_jobs replay spread-calculator --input day.jsonl --out spreads/ --json | jq .outputs

settings (--set NAME=VALUE, repeatable): threshold (the job's: whale_threshold, anomaly_threshold or
spread_threshold_pct), min_periods (volume-anomaly), watermark ('2 minutes'), symbols (BTC-USDT,ETH-USDT),
trigger (the arrival-time slot of one micro-batch, '5 seconds')."""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB", help=f"the job to replay: {', '.join(names(REPLAY_JOBS))}")
    parser.add_argument("--input", required=True, type=Path, help="recorded unified trades, one JSON object a line")
    parser.add_argument(
        "--out", required=True, type=Path, help="folder for the NDJSON outputs (created; files replaced)"
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a job setting, e.g. threshold=3.0 (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="also print the summary as one JSON object on stdout")


def add_replay_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``replay`` to a command's subparsers; ``run_replay_from_args`` runs the parsed arguments."""
    parser = subparsers.add_parser(
        "replay",
        help="run one job's streaming logic over recorded trades (backtest), outputs as NDJSON",
        description=_replay_doc.split("\n\n", 2)[0] if _replay_doc else None,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(handler=run_replay_from_args)
    return parser


# Spark's start-up chatter (log level hints, native-library and host warnings) would bury the summary on
# stderr; errors still show. (PySpark counts as a shell: giving its gateway's logger a level keeps
# Spark from lowering the root level to WARN and announcing it.)
_LOG4J2 = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""


def replay_session() -> SparkSession:
    """A local SparkSession for one replay: no Iceberg, no Kinesis, nothing to resolve from Maven."""
    # Python workers (the anomaly detector's applyInPandasWithState) must run this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log4j2 = Path(tempfile.gettempdir()) / f"coattail-replay-log4j2-{os.getuid()}.properties"  # one per user
    if not log4j2.exists() or log4j2.read_text(encoding="utf-8") != _LOG4J2:
        # A uniquely named draft, renamed: replays starting together never read half a file.
        fd, draft = tempfile.mkstemp(dir=log4j2.parent, prefix=".coattail-replay-log4j2-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_LOG4J2)
        os.replace(draft, log4j2)
    builder = SparkSession.builder.appName("coattail-replay")
    conf = {
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j2.as_uri()}",
        "spark.master": os.environ.get("COATTAIL_SPARK_MASTER") or "local[*]",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get("COATTAIL_SHUFFLE_PARTITIONS") or "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _usage_error(message: str) -> int:
    print(f"replay: {message}", file=sys.stderr)
    return 2


def run_replay_from_args(args: argparse.Namespace) -> int:
    """Run a replay from parsed ``replay`` arguments; 0 when done, 2 (one line on stderr) for bad usage."""
    try:
        config = replay_config(args.job, args.settings)
    except ConfigError as err:
        return _usage_error(str(err))
    input_path, out_dir = Path(args.input).resolve(), Path(args.out).resolve()
    if not input_path.is_file():
        return _usage_error(f"--input {args.input}: no such file: pass a recording of unified trades (NDJSON)")
    if not os.access(input_path, os.R_OK):
        return _usage_error(f"--input {args.input}: not readable: check its permissions")
    if out_dir.exists() and not out_dir.is_dir():
        return _usage_error(f"--out {args.out}: is a file, not a folder: pass a folder for the outputs")
    active = SparkSession.getActiveSession()
    spark = active if active is not None else replay_session()
    try:
        summary = run_replay(spark, config, input_path, out_dir)
    finally:
        if active is None:
            spark.stop()
    for line in summary.lines():
        print(line, file=sys.stderr)
    if args.json:
        print(summary.as_json())
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m coattail_jobs.replay``: the same command as ``python -m coattail_jobs replay``."""
    parser = argparse.ArgumentParser(
        prog="python -m coattail_jobs.replay",
        description=_replay_doc.split("\n\n", 2)[0] if _replay_doc else None,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return run_replay_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
