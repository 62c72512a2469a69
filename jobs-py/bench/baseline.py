"""The replay benchmark's baseline: the I/O and parse floor any job's replay stands on.

``python bench/baseline.py --input trades.jsonl --out DIR``: one plain Spark batch job in the replay's own
session (``replay_session``: same master, shuffle partitions, logging) that reads the NDJSON recording,
parses it with the project's parse step (``coattail_jobs.parse.parse_trades``) and writes the parsed
trades back out as NDJSON. No quality checks, no streaming, no job logic, no sort.

``python bench/baseline.py --startup``: only starts and stops that session (the JVM's fixed cost).

Run as its own process, like ``python -m coattail_jobs replay``, so both pay the same start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coattail_jobs.parse import PARSED_COLUMNS, parse_trades
from coattail_jobs.replay.cli import replay_session
from coattail_jobs.sources import file_source


def copy_parsed(input_path: Path, out_dir: Path) -> None:
    """Recording -> parse_trades -> NDJSON part files in ``out_dir`` (replaced)."""
    spark = replay_session()
    try:
        parsed = parse_trades(file_source(spark, str(input_path), streaming=False))
        parsed.select(*PARSED_COLUMNS).write.mode("overwrite").json(str(out_dir))
    finally:
        spark.stop()


def start_and_stop() -> None:
    replay_session().stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/baseline.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--input", type=Path, help="recorded unified trades, one JSON object a line")
    parser.add_argument("--out", type=Path, help="folder for the parsed trades (replaced)")
    parser.add_argument("--startup", action="store_true", help="only start and stop the Spark session")
    args = parser.parse_args(argv)
    if args.startup:
        start_and_stop()
        return 0
    if args.input is None or args.out is None:
        parser.error("--input and --out are required (or --startup)")
    if not args.input.is_file():
        parser.error(f"--input {args.input}: no such file")
    copy_parsed(args.input.resolve(), args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
