"""schema-evolution-demo: add a column to an Iceberg table holding data, and show that no data file is rewritten.

``python -m coattail_jobs schema-evolution-demo [--json]``

On a table of its own, ``crypto_pulse.schema_evolution_demo`` (the columns and partitioning of
``raw_trades``; re-created at every run, so the live tables are never touched):

1. create it and append a few trades (one data file per day and symbol); list the data files
   (``<table>.files``: path, size, record count) and the snapshots;
2. ``ALTER TABLE ... ADD COLUMNS (ingest_source string)``: Iceberg records a new schema in the table's metadata
   and assigns the column a new field id; it commits no snapshot and writes no data file;
3. append more trades that carry ``ingest_source = 'rest'``;
4. read everything: the old rows' ``ingest_source`` is NULL (their files have no column with that field id),
   the new rows carry the value;
5. list the data files again: every earlier file is still there with the same path, size and record count,
   and only the new append's files were added. The earlier files' own Parquet schema, read from their
   footers, still lacks the column: they were not rewritten.

The report is text for people, or ``--json``; the exit status is 1 when any of those facts does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pyarrow ships no type information
from pyspark.sql import SparkSession

from ..config import JobConfig
from ..schemas import RAW_TRADES, TableSpec
from ..writers import iceberg_create_sql
from .common import batch_session, filesystem, iso_millis

JOB = "schema-evolution-demo"
HELP = "add a column to an Iceberg table of its own and show that no data file is rewritten"
DEMO_TABLE = "schema_evolution_demo"
NEW_COLUMN = "ingest_source"
NEW_COLUMN_TYPE = "string"
NEW_VALUE = "rest"
NEW_COLUMN_COMMENT = "websocket or rest (historical-loader)"
DEMO_SPEC = TableSpec(DEMO_TABLE, RAW_TRADES, ("day(trade_time)", "symbol"), "the schema-evolution demo's trades")

_Trade = tuple[str, str, str, float, float, str, datetime]
"""exchange, symbol, trade id, price, quantity, taker side, trade time."""


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


OLD_TRADES: tuple[_Trade, ...] = (
    ("binance", "BTC-USDT", "1001", 64_000.0, 0.5, "buy", _at(1, 10, 0)),
    ("binance", "BTC-USDT", "1002", 64_010.0, 0.25, "sell", _at(1, 10, 1)),
    ("coinbase", "ETH-USDT", "2001", 3_000.0, 2.0, "buy", _at(1, 10, 2)),
    ("binance", "SOL-USDT", "3001", 150.0, 10.0, "sell", _at(2, 9, 0)),
)
"""Before the column exists: three (day, symbol) partitions, so three data files."""
NEW_TRADES: tuple[_Trade, ...] = (
    ("binance", "BTC-USDT", "1003", 64_100.0, 1.0, "buy", _at(2, 11, 0)),
    ("coinbase", "ETH-USDT", "2002", 3_010.0, 0.5, "sell", _at(2, 11, 1)),
)
"""After: loaded by the REST backfill, so they say where they came from."""


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int
    records: int


def data_files(spark: SparkSession, table: str) -> list[DataFile]:
    rows = spark.sql(f"SELECT file_path, file_size_in_bytes, record_count FROM {table}.files ORDER BY file_path")
    return [DataFile(str(r[0]), int(r[1]), int(r[2])) for r in rows.collect()]


def snapshots(spark: SparkSession, table: str) -> list[dict[str, str]]:
    rows = spark.sql(f"SELECT snapshot_id, operation FROM {table}.snapshots ORDER BY committed_at").collect()
    return [{"snapshot_id": str(r[0]), "operation": str(r[1])} for r in rows]


def columns(spark: SparkSession, table: str) -> list[str]:
    return spark.table(table).columns


def file_columns(path: str) -> list[str]:
    """The column names in a data file's own Parquet footer (local ``file:`` paths and ``s3://`` URIs)."""
    fs, located = filesystem(path.removeprefix("file:") if path.startswith("file:") else path)
    return list(pq.read_schema(located, filesystem=fs).names)


def _trade_rows(trades: Sequence[_Trade], archived_at: datetime, source: str | None) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for exchange, symbol, trade_id, price, quantity, side, at in trades:
        row: tuple[object, ...] = (
            f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, price, quantity, price * quantity, side,
            at, at, 1, None, archived_at,
        )  # fmt: skip
        rows.append(row if source is None else (*row, source))
    return rows


def add_column_sql(table: str) -> str:
    """The schema change, written as Athena takes it (``ADD COLUMNS``, Hive's DDL grammar, as a migration
    in ddl/migrations/ would hold it); Spark SQL reads the same statement."""
    return f"ALTER TABLE {table} ADD COLUMNS ({NEW_COLUMN} {NEW_COLUMN_TYPE} COMMENT '{NEW_COLUMN_COMMENT}')"


def run_demo(spark: SparkSession, table: str, now: datetime | None = None) -> dict[str, object]:
    """Runs the demo on ``table`` (dropped and re-created first) and returns the report."""
    archived_at = now or datetime.now(UTC)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table.rsplit('.', 1)[0]}")
    spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
    spark.sql(iceberg_create_sql(DEMO_SPEC, table))
    spark.createDataFrame(_trade_rows(OLD_TRADES, archived_at, None), RAW_TRADES).writeTo(table).append()
    files_before, snapshots_before, columns_before = (
        data_files(spark, table),
        snapshots(spark, table),
        columns(spark, table),
    )

    spark.sql(add_column_sql(table))
    snapshots_after_alter = snapshots(spark, table)
    evolved = spark.table(table).schema
    spark.createDataFrame(_trade_rows(NEW_TRADES, archived_at, NEW_VALUE), evolved).writeTo(table).append()
    files_after, snapshots_after, columns_after = (
        data_files(spark, table),
        snapshots(spark, table),
        columns(spark, table),
    )

    read = spark.sql(
        f"SELECT event_id, symbol, unix_millis(trade_time) AS ms, {NEW_COLUMN} FROM {table} "
        "ORDER BY trade_time, event_id"
    ).collect()
    old_ids = {f"{t[0]}:{t[1]}:{t[2]}" for t in OLD_TRADES}
    rows = [
        {
            "event_id": r[0],
            "symbol": r[1],
            "trade_time": iso_millis(datetime.fromtimestamp(r[2] / 1000, UTC)),
            NEW_COLUMN: r[3],
        }
        for r in read
    ]
    after_by_path = {f.path: f for f in files_after}
    before_paths = {f.path for f in files_before}
    unchanged = [f.path for f in files_before if after_by_path.get(f.path) == f]
    changed = [f.path for f in files_before if f.path in after_by_path and after_by_path[f.path] != f]
    removed = [f.path for f in files_before if f.path not in after_by_path]
    added = [f.path for f in files_after if f.path not in before_paths]
    facts = {
        "alter_committed_no_snapshot": snapshots_after_alter == snapshots_before,
        "old_rows_null": all(r[NEW_COLUMN] is None for r in rows if r["event_id"] in old_ids)
        and sum(r["event_id"] in old_ids for r in rows) == len(OLD_TRADES),
        "new_rows_filled": [r[NEW_COLUMN] for r in rows if r["event_id"] not in old_ids]
        == [NEW_VALUE] * len(NEW_TRADES),
        "no_file_rewritten": not changed and not removed and len(unchanged) == len(files_before),
        "old_files_lack_column": all(NEW_COLUMN not in file_columns(p) for p in before_paths),
        "new_files_have_column": bool(added) and all(NEW_COLUMN in file_columns(p) for p in added),
    }
    return {
        "job": JOB,
        "table": table,
        "column": {"name": NEW_COLUMN, "type": NEW_COLUMN_TYPE, "value": NEW_VALUE},
        "before": {
            "columns": columns_before,
            "snapshots": snapshots_before,
            "files": [asdict(f) for f in files_before],
        },
        "after_alter": {"snapshots": snapshots_after_alter},
        "after": {"columns": columns_after, "snapshots": snapshots_after, "files": [asdict(f) for f in files_after]},
        "rows": rows,
        "files": {"unchanged": unchanged, "changed": changed, "removed": removed, "added": added},
        "facts": facts,
        "ok": all(facts.values()),
    }


# ---------------------------------------------------------------- the report for people


def _short(path: str) -> str:
    """A data file's path from the table's ``data/`` folder on: the partition and the file name."""
    marker = "/data/"
    return path[path.index(marker) + len(marker) :] if marker in path else path


def _file_lines(files: Sequence[Mapping[str, object]], mark: Mapping[str, str] | None = None) -> list[str]:
    """One line per data file: (what happened to it,) its partition and name, size and record count."""
    width = max((len(_short(str(f["path"]))) for f in files), default=0)
    lines = []
    for f in files:
        records = int(str(f["records"]))
        what = "" if mark is None else f"{mark.get(str(f['path']), ''):<10}"
        lines.append(
            f"    {what}{_short(str(f['path'])):<{width}}  {int(str(f['size'])):>7,} bytes  "
            f"{records} {'row' if records == 1 else 'rows'}"
        )
    return lines


def render_text(report: Mapping[str, object]) -> str:
    before, after, files, facts = report["before"], report["after"], report["files"], report["facts"]
    rows, column = report["rows"], report["column"]
    assert isinstance(before, dict) and isinstance(after, dict) and isinstance(files, dict)
    assert isinstance(facts, dict) and isinstance(rows, list) and isinstance(column, dict)
    name = column["name"]
    mark = {p: "unchanged" for p in files["unchanged"]} | {p: "ADDED" for p in files["added"]}
    mark |= {p: "CHANGED" for p in files["changed"]}
    yes = {True: "yes", False: "NO"}
    lines = [
        f"Iceberg schema evolution on {report['table']}",
        "",
        f"1. Created the table and appended {len(OLD_TRADES)} trades: {len(before['files'])} data files, "
        f"{len(before['snapshots'])} snapshot(s)",
        *_file_lines(before["files"]),
        f"2. ALTER TABLE ... ADD COLUMN {name} {column['type']}: new snapshot committed? "
        f"{yes[not facts['alter_committed_no_snapshot']].lower()} (a metadata-only change)",
        f"3. Appended {len(NEW_TRADES)} trades with {name} = '{column['value']}'",
        "4. The table now reads:",
    ]
    width = max((len(str(r["event_id"])) for r in rows), default=0)
    lines += [
        f"    {r['event_id']:<{width}}  {r['trade_time']}  {name} = {'NULL' if r[name] is None else repr(r[name])}"
        for r in rows
    ]
    lines += [
        f"5. Data files after: {len(after['files'])} ({len(files['unchanged'])} unchanged, "
        f"{len(files['added'])} added, {len(files['changed'])} changed, {len(files['removed'])} removed)",
        *_file_lines(after["files"], mark),
        "",
        f"old rows read NULL: {yes[facts['old_rows_null']]}; new rows carry the value: {yes[facts['new_rows_filled']]}",
        f"every earlier file still there, same path, size and record count: {yes[facts['no_file_rewritten']]}",
        f"earlier files' own Parquet schema lacks {name} (not rewritten): {yes[facts['old_files_lack_column']]}; "
        f"new files have it: {yes[facts['new_files_have_column']]}",
        "result: " + ("no data file was rewritten" if report["ok"] else "A FACT ABOVE DID NOT HOLD"),
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command line


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = os.environ.get
    p = subparsers.add_parser(
        JOB,
        help=HELP,
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=(
            "examples:\n  python -m coattail_jobs schema-evolution-demo\n"
            "  python -m coattail_jobs schema-evolution-demo --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--mode", choices=("local", "emr"), default=env("COATTAIL_MODE", "local"))
    p.add_argument("--warehouse", default=env("COATTAIL_WAREHOUSE", ".coattail/warehouse"))
    p.add_argument("--json", action="store_true", help="the report as one JSON object on stdout")


def run_from_args(args: argparse.Namespace) -> int:
    config = JobConfig(job=JOB, mode=args.mode, warehouse=args.warehouse)
    spark, owned = batch_session(config, f"coattail-{JOB}")
    try:
        report = run_demo(spark, config.table(DEMO_TABLE))
    finally:
        if owned:
            spark.stop()
    sys.stdout.write(json.dumps(report) + "\n" if args.json else render_text(report))
    return 0 if report["ok"] else 1
