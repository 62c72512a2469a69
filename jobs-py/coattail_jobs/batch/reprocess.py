"""reprocess-anomalies: today's anomaly logic over ``raw_trades`` as the table was at a snapshot or a time.

``python -m coattail_jobs reprocess-anomalies --as-of 2024-05-01T12:00:00Z [--set threshold=3.0] [--report FILE]``

1. ``--as-of`` is a snapshot id (digits: ``VERSION AS OF``) or an ISO-8601 time with a zone (``TIMESTAMP AS
   OF``: the snapshot that was current then). A time before the table's first snapshot, or an id the table
   does not have, is a usage error (one line, exit 2): Iceberg would only answer with a stack trace.
2. The trades of that snapshot go through the live job's own factories: ``volume_aggregates`` (60-second
   windows, each event_id once) and ``detect_anomalies_batch`` (the bounded form of the streaming detector,
   proven equal to it), with the configured thresholds; ``--set threshold=`` / ``min_periods=`` override.
3. The anomalies go to ``anomalies_reprocessed`` with ``as_of`` (the argument as given) and
   ``reprocessed_at``: the rows of an earlier run with the same ``as_of`` are deleted first, then the new ones
   merged on (alert_id, as_of), so the table holds the latest run per ``as_of``, whatever settings the
   earlier one had. (Two commits: a run that dies between them leaves that ``as_of`` empty until re-run.)
4. Comparison with ``anomalies`` on ``alert_id``, per symbol: matched, only original, only reprocessed.
   Only the original anomalies the snapshot could have produced are compared: for each (symbol, exchange)
   in the snapshot, those whose window starts between the first and the last window its trades fill.
   Anomalies outside (later data, pairs the snapshot lacks) are counted as ``original_outside_span`` and
   not compared. The edge windows of a snapshot may be partly filled, so they can differ from the live
   result for that reason alone.

The report (JSON) goes to stdout and to ``--report`` (default ``.coattail/reprocess/<as-of>.json`` locally;
in ``--mode emr`` only where ``--report s3://...`` says, as the driver's disk vanishes with the run).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ..config import ANOMALY_MIN_PERIODS, ANOMALY_THRESHOLD, ConfigError, JobConfig, apply_settings
from ..jobs import volume_anomaly
from ..jobs.volume_anomaly import detect_anomalies_batch, volume_aggregates
from ..schemas import TABLES_BY_NAME, TRADE
from ..writers import ensure_tables, merge_into_iceberg
from .common import EPOCH, ISO_INSTANT, batch_session, check_s3, epoch_micros, iso_millis, parse_instant, write_text

log = logging.getLogger(__name__)

JOB = "reprocess-anomalies"
HELP = "re-run anomaly detection over raw_trades as of a snapshot or time; compare with anomalies"
SNAPSHOT_ID = re.compile(r"^\d{1,19}$")
_MAX_SNAPSHOT_ID = 2**63 - 1
SETTINGS = (ANOMALY_THRESHOLD, ANOMALY_MIN_PERIODS)
"""What ``--set`` may change here: the detector's settings (watermark and trigger mean nothing in a batch)."""
_SETTING_NAMES = tuple(name for setting in SETTINGS for name in setting.names)
_AS_OF_EXAMPLE = "write it like 2024-05-01T12:00:00Z or a snapshot id like 5301479425378617361"


@dataclass(frozen=True)
class AsOf:
    """The ``--as-of`` argument: its text as given, and the snapshot id or the instant it names."""

    text: str
    snapshot_id: int | None = None
    moment: datetime | None = None

    @property
    def kind(self) -> str:
        return "snapshot_id" if self.snapshot_id is not None else "timestamp"


def parse_as_of(text: str) -> AsOf:
    """ConfigError (exit 2) for anything but digits or an ISO-8601 time with a zone."""
    if SNAPSHOT_ID.match(text):
        if int(text) > _MAX_SNAPSHOT_ID:
            raise ConfigError(f"--as-of {text} is larger than any snapshot id (a 64-bit number): {_AS_OF_EXAMPLE}")
        return AsOf(text, snapshot_id=int(text))
    if ISO_INSTANT.match(text):
        return AsOf(text, moment=parse_instant(text, "--as-of"))
    raise ConfigError(
        f"--as-of {text!r} is neither a snapshot id (digits) nor an ISO-8601 time with a zone: {_AS_OF_EXAMPLE}"
    )


@dataclass(frozen=True)
class Tables:
    """The tables a reprocessing reads and writes (qualified names)."""

    raw_trades: str
    anomalies: str
    reprocessed: str

    @classmethod
    def of(cls, config: JobConfig) -> Tables:
        return cls(config.table("raw_trades"), config.table("anomalies"), config.table("anomalies_reprocessed"))


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    committed_us: int


def resolve_snapshot(spark: SparkSession, table: str, as_of: AsOf) -> Snapshot:
    """The snapshot ``as_of`` names, as Iceberg resolves it; ConfigError when there is none."""
    committed = {
        int(r["snapshot_id"]): int(r["us"])
        for r in spark.sql(f"SELECT snapshot_id, unix_micros(committed_at) AS us FROM {table}.snapshots").collect()
    }
    if not committed:
        raise ConfigError(
            f"{table} has no snapshot yet: there is nothing to reprocess; archive trades first (raw-archiver)"
        )
    if as_of.snapshot_id is not None:
        if as_of.snapshot_id not in committed:
            newest = sorted(committed, key=lambda s: committed[s], reverse=True)[:3]
            raise ConfigError(
                f"--as-of {as_of.text}: {table} has no snapshot {as_of.snapshot_id}; its newest are "
                f"{', '.join(str(s) for s in newest)} (SELECT * FROM {table}.snapshots lists them all)"
            )
        return Snapshot(as_of.snapshot_id, committed[as_of.snapshot_id])
    assert as_of.moment is not None
    wanted = epoch_micros(as_of.moment)
    # The snapshot log, as Iceberg's TIMESTAMP AS OF reads it: the last snapshot made current at or before the time.
    history = [
        (int(r["us"]), int(r["snapshot_id"]))
        for r in spark.sql(
            f"SELECT snapshot_id, unix_micros(made_current_at) AS us FROM {table}.history ORDER BY made_current_at"
        ).collect()
    ]
    # Should the log be empty (it lists retained snapshots only), the commit times stand in.
    history = history or sorted((us, snapshot) for snapshot, us in committed.items())
    first_us = history[0][0]
    if wanted < first_us:
        raise ConfigError(
            f"--as-of {as_of.text} is before the first snapshot of {table} ({_iso_micros(first_us)}): "
            f"pass a time at or after it, or a snapshot id"
        )
    made_current_us, current = [entry for entry in history if entry[0] <= wanted][-1]
    return Snapshot(current, committed.get(current, made_current_us))


def read_as_of(spark: SparkSession, table: str, as_of: AsOf) -> DataFrame:
    if as_of.snapshot_id is not None:
        return spark.sql(f"SELECT * FROM {table} VERSION AS OF {as_of.snapshot_id}")
    assert as_of.moment is not None
    # A UTC literal with its zone: the session's time zone cannot shift it.
    return spark.sql(f"SELECT * FROM {table} TIMESTAMP AS OF '{as_of.moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}'")


def _iso_micros(us: int) -> str:
    return iso_millis(EPOCH + timedelta(microseconds=us))


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class SymbolComparison:
    symbol: str
    matched: int
    only_original: int
    only_reprocessed: int


def compare(
    original: Iterable[tuple[str, str]], reprocessed: Iterable[tuple[str, str]], symbols: Iterable[str] = ()
) -> tuple[list[SymbolComparison], list[str], list[str]]:
    """(alert_id, symbol) pairs of both sides -> per-symbol counts (every symbol of ``symbols`` or either
    side, sorted), and the sorted alert ids found only in the original and only in the reprocessed."""
    original_ids = dict(original)
    reprocessed_ids = dict(reprocessed)
    rows = []
    for symbol in sorted({*symbols, *original_ids.values(), *reprocessed_ids.values()}):
        mine = {a for a, s in original_ids.items() if s == symbol}
        theirs = {a for a, s in reprocessed_ids.items() if s == symbol}
        rows.append(SymbolComparison(symbol, len(mine & theirs), len(mine - theirs), len(theirs - mine)))
    return (
        rows,
        sorted(set(original_ids) - set(reprocessed_ids)),
        sorted(set(reprocessed_ids) - set(original_ids)),
    )


# ---------------------------------------------------------------- the job


def reprocess(
    spark: SparkSession, config: JobConfig, as_of: AsOf, tables: Tables, reprocessed_at: datetime
) -> dict[str, object]:
    """Runs the reprocessing (see the module doc) and returns the report."""
    if not spark.catalog.tableExists(tables.raw_trades):
        raise ConfigError(
            f"no table {tables.raw_trades}: there is nothing to reprocess; archive trades first (raw-archiver)"
        )
    by_name = {"anomalies": tables.anomalies, "anomalies_reprocessed": tables.reprocessed}
    ensure_tables(spark, [TABLES_BY_NAME[n] for n in by_name], by_name.__getitem__)
    snapshot = resolve_snapshot(spark, tables.raw_trades, as_of)
    trades = read_as_of(spark, tables.raw_trades, as_of).select(*TRADE.names)
    aggregates = trades.transform(volume_aggregates(config)).persist()
    reprocessed = (
        aggregates.transform(detect_anomalies_batch(config, detected_at=reprocessed_at))
        .withColumns({"as_of": F.lit(as_of.text), "reprocessed_at": F.lit(reprocessed_at)})
        .persist()
    )
    try:
        spans = aggregates.groupBy("symbol", "exchange").agg(
            F.min("window_start").alias("first_window_start"),
            F.max("window_start").alias("last_window_start"),
            F.count(F.lit(1)).alias("windows"),
            F.sum("trade_count").alias("trades"),
        )
        span_rows = spans.select(
            "symbol",
            "exchange",
            F.unix_micros("first_window_start").alias("first_us"),
            F.unix_micros("last_window_start").alias("last_us"),
            "windows",
            "trades",
        ).collect()
        # as_of passed parse_as_of: digits or an ISO time, nothing that could close the quote.
        spark.sql(f"DELETE FROM {tables.reprocessed} WHERE as_of = '{as_of.text}'")
        merge_into_iceberg(reprocessed, TABLES_BY_NAME["anomalies_reprocessed"], tables.reprocessed)
        new_ids = [(r["alert_id"], r["symbol"]) for r in reprocessed.select("alert_id", "symbol").collect()]
        original = spark.table(tables.anomalies)
        in_span = (
            original.join(F.broadcast(spans), ["symbol", "exchange"])
            .where(F.col("window_start").between(F.col("first_window_start"), F.col("last_window_start")))
            .select("alert_id", "symbol")
            .collect()
        )
        original_total = original.count()
    finally:
        reprocessed.unpersist()
        aggregates.unpersist()
    symbols, only_original, only_reprocessed = compare(
        [(r["alert_id"], r["symbol"]) for r in in_span], new_ids, [r["symbol"] for r in span_rows]
    )
    return {
        "job": JOB,
        "as_of": as_of.text,
        "as_of_kind": as_of.kind,
        # A string: snapshot ids pass 2^53, beyond what a JSON number keeps exactly in JavaScript.
        "snapshot_id": str(snapshot.snapshot_id),
        "snapshot_committed_at": _iso_micros(snapshot.committed_us),
        "reprocessed_at": iso_millis(reprocessed_at),
        "settings": {"anomaly_threshold": config.anomaly_threshold, "anomaly_min_periods": config.anomaly_min_periods},
        "tables": {"raw_trades": tables.raw_trades, "anomalies": tables.anomalies, "reprocessed": tables.reprocessed},
        "trades": sum(int(r["trades"]) for r in span_rows),
        "windows": sum(int(r["windows"]) for r in span_rows),
        "span": [
            {
                "symbol": r["symbol"],
                "exchange": r["exchange"],
                "first_window_start": _iso_micros(int(r["first_us"])),
                "last_window_start": _iso_micros(int(r["last_us"])),
                "windows": int(r["windows"]),
            }
            for r in sorted(span_rows, key=lambda r: (r["symbol"], r["exchange"]))
        ],
        "symbols": [vars(row) for row in symbols],
        "total": {
            "matched": sum(row.matched for row in symbols),
            "only_original": len(only_original),
            "only_reprocessed": len(only_reprocessed),
        },
        "original_outside_span": original_total - len(in_span),
        "only_original_ids": only_original,
        "only_reprocessed_ids": only_reprocessed,
    }


# ---------------------------------------------------------------- command line

_EXAMPLES = """examples:
  python -m coattail_jobs reprocess-anomalies --as-of 2024-05-01T12:00:00Z
  python -m coattail_jobs reprocess-anomalies --as-of 5301479425378617361 --set threshold=3.0 --report va.json
  python -m coattail_jobs reprocess-anomalies --mode emr --as-of 2024-05-01T12:00:00+02:00 \\
      --report s3://my-coattail/coattail/reprocess/2024-05-01.json"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = os.environ.get
    p = subparsers.add_parser(
        JOB,
        help=HELP,
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--as-of", required=True, help="a snapshot id of raw_trades, or an ISO-8601 time with a zone")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="threshold=3.0, min_periods=20 (repeatable)"
    )
    p.add_argument("--report", help="where the JSON report goes (default .coattail/reprocess/<as-of>.json; s3:// too)")
    p.add_argument("--mode", choices=("local", "emr"), default=env("COATTAIL_MODE", "local"))
    p.add_argument("--warehouse", default=env("COATTAIL_WAREHOUSE", ".coattail/warehouse"))


def default_report(as_of: AsOf) -> str:
    """``.coattail/reprocess/<as-of>.json``, with ``:`` (not allowed in every file system) as ``-``."""
    return str(Path(".coattail") / "reprocess" / (re.sub(r"[^A-Za-z0-9.+-]", "-", as_of.text) + ".json"))


def check_settings(assignments: Iterable[str]) -> list[str]:
    for assignment in assignments:
        name = assignment.partition("=")[0].strip()
        if name not in _SETTING_NAMES:
            raise ConfigError(f"--set {assignment!r}: {JOB} takes {', '.join(_SETTING_NAMES)}")
    return list(assignments)


def run_from_args(args: argparse.Namespace) -> int:
    as_of = parse_as_of(args.as_of.strip())
    # The live job's own settings and defaults: the same detector, as of a snapshot.
    base = JobConfig(job=volume_anomaly.JOB, mode=args.mode, warehouse=args.warehouse)
    config = apply_settings(base, SETTINGS, check_settings(args.set))
    report_to = args.report if args.report is not None else (default_report(as_of) if args.mode == "local" else None)
    check_s3(args.mode, "--report", report_to)
    spark, owned = batch_session(config, f"coattail-{JOB}")
    try:
        report = reprocess(spark, config, as_of, Tables.of(config), datetime.now(UTC))
    finally:
        if owned:
            spark.stop()
    emit(report, report_to)
    return 0


def emit(report: dict[str, object], report_to: str | None) -> None:
    """The report to ``report_to`` (pretty JSON; its location added to the report), a summary line to stderr,
    and the report as one JSON line to stdout."""
    if report_to is not None:
        report["report"] = report_to if "://" in report_to else str(Path(report_to).resolve())
        write_text(report_to, json.dumps(report, indent=2) + "\n")
    for line in summary_lines(report):
        print(line, file=sys.stderr)
    print(json.dumps(report))


def summary_lines(report: Mapping[str, object]) -> list[str]:
    total = report["total"]
    assert isinstance(total, dict)
    return [
        f"{JOB}: raw_trades as of {report['as_of']} (snapshot {report['snapshot_id']}): {report['trades']} trades, "
        f"{report['windows']} windows; matched {total['matched']}, only original {total['only_original']}, "
        f"only reprocessed {total['only_reprocessed']}"
        + (f"; report in {report['report']}" if "report" in report else "")
    ]
