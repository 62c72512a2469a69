"""reprocess-anomalies over a hand-built raw_trades with two snapshots, against a hand-built anomalies table.

raw_trades (one trade a window; quote volumes by window start, minutes after 2024-01-01T00:00Z):
  snapshot 1: binance BTC-USDT   0: 100, 1: 110, 2: 90, 3: 100
  snapshot 2: binance BTC-USDT   4: 200 (a spike)
              coinbase ETH-USDT  0: 10, 1: 12, 2: 8, 3: 10, 4: 50
With min_periods 3 and threshold 2.5:
  BTC 00:03: baseline 100, 110, 90: mean 100, squared deviations 0 + 100 + 100, std sqrt(200 / 2) = 10, z 0.
  BTC 00:04: baseline 100, 110, 90, 100: mean 100, std sqrt(200 / 3), z = 100 / sqrt(200 / 3) = sqrt(150) = 12.25.
  ETH 00:03: baseline 10, 12, 8: mean 10, std sqrt(8 / 2) = 2, z 0.
  ETH 00:04: baseline 10, 12, 8, 10: mean 10, std sqrt(8 / 3), z = 40 / sqrt(8 / 3) = sqrt(600) = 24.49.
  Earlier windows have fewer than 3 baseline windows. So: as of snapshot 1 nothing; as of snapshot 2 BTC 00:04
  and ETH 00:04; with threshold 20 only ETH 00:04.

anomalies (what the live job raised):
  A binance BTC-USDT 00:04   B binance BTC-USDT 00:02   C binance BTC-USDT 00:30
  D binance SOL-USDT 00:01   E coinbase BTC-USDT 00:02
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.batch.reprocess import (
    AsOf,
    SymbolComparison,
    Tables,
    compare,
    default_report,
    emit,
    parse_as_of,
    reprocess,
    run_from_args,
)
from coattail_jobs.config import ConfigError, JobConfig
from coattail_jobs.schemas import ANOMALY_ALERT, ANOMALY_REPROCESSED, RAW_TRADES, TABLES_BY_NAME
from coattail_jobs.writers import ensure_tables

NS = "coattail.reprocess_test"
TABLES = Tables(f"{NS}.raw_trades", f"{NS}.anomalies", f"{NS}.anomalies_reprocessed")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
RAN_AT = datetime(2024, 6, 1, 12, tzinfo=UTC)
LIVE_AT = datetime(2024, 1, 1, 1, tzinfo=UTC)
CONFIG = JobConfig(job="volume-anomaly", anomaly_min_periods=3)


def at(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


def trade(exchange: str, symbol: str, m: int, quote_volume: float) -> tuple[object, ...]:
    """A RAW_TRADES row: one trade 10 s into minute ``m``, price 100."""
    t = at(m) + timedelta(seconds=10)
    trade_id = f"{m}"
    return (
        f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, 100.0, quote_volume / 100.0, quote_volume, "buy",
        t, t, 1, None, t,
    )  # fmt: skip


def alert_id(exchange: str, symbol: str, m: int) -> str:
    return f"volume_anomaly:{exchange}:{symbol}:{at(m):%Y-%m-%dT%H:%M:%S}.000Z"


def original(exchange: str, symbol: str, m: int) -> tuple[object, ...]:
    """An ANOMALY_ALERT row as the live job would have written it (the statistics do not matter here)."""
    return (alert_id(exchange, symbol, m), at(m), at(m + 1), symbol, exchange, 1.0, 1, 0.5, 0.1, 10, 5.0, 2.5, LIVE_AT)


A, B, C = alert_id("binance", "BTC-USDT", 4), alert_id("binance", "BTC-USDT", 2), alert_id("binance", "BTC-USDT", 30)
ETH_4 = alert_id("coinbase", "ETH-USDT", 4)


@dataclass(frozen=True)
class Snapshots:
    first_id: int
    first_ms: int
    second_id: int


@pytest.fixture(scope="module")
def snapshots(spark: SparkSession) -> Iterator[Snapshots]:
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {NS}")
    for table in (TABLES.raw_trades, TABLES.anomalies, TABLES.reprocessed):
        spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
    names = {"raw_trades": TABLES.raw_trades, "anomalies": TABLES.anomalies}
    ensure_tables(spark, [TABLES_BY_NAME[n] for n in names], names.__getitem__)
    btc = [trade("binance", "BTC-USDT", m, v) for m, v in enumerate([100.0, 110.0, 90.0, 100.0])]
    spark.createDataFrame(btc, RAW_TRADES).writeTo(TABLES.raw_trades).append()
    eth = [trade("coinbase", "ETH-USDT", m, v) for m, v in enumerate([10.0, 12.0, 8.0, 10.0, 50.0])]
    spike = [trade("binance", "BTC-USDT", 4, 200.0)]
    spark.createDataFrame(spike + eth, RAW_TRADES).writeTo(TABLES.raw_trades).append()
    originals = [
        original("binance", "BTC-USDT", 4),
        original("binance", "BTC-USDT", 2),
        original("binance", "BTC-USDT", 30),
        original("binance", "SOL-USDT", 1),
        original("coinbase", "BTC-USDT", 2),
    ]
    spark.createDataFrame(originals, ANOMALY_ALERT).writeTo(TABLES.anomalies).append()
    rows = spark.sql(
        f"SELECT snapshot_id, unix_millis(committed_at) AS ms FROM {TABLES.raw_trades}.snapshots ORDER BY committed_at"
    ).collect()
    assert len(rows) == 2 and rows[0]["ms"] < rows[1]["ms"]
    yield Snapshots(rows[0]["snapshot_id"], rows[0]["ms"], rows[1]["snapshot_id"])


def in_plus_one(epoch_ms: int) -> str:
    """The instant as ISO-8601 in UTC+01:00: a reader ignoring the zone would land an hour late."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, timezone(timedelta(hours=1)))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+01:00"


def test_as_of_the_first_snapshot_by_time(spark: SparkSession, snapshots: Snapshots) -> None:
    as_of = in_plus_one(snapshots.first_ms)  # the first commit's very millisecond
    report = reprocess(spark, CONFIG, parse_as_of(as_of), TABLES, RAN_AT)

    assert report["snapshot_id"] == str(snapshots.first_id)
    # BTC binance windows 00:00..00:03 only; of the originals only B (00:02) lies in them.
    assert report["span"] == [
        {
            "symbol": "BTC-USDT",
            "exchange": "binance",
            "first_window_start": "2024-01-01T00:00:00.000Z",
            "last_window_start": "2024-01-01T00:03:00.000Z",
            "windows": 4,
        }
    ]
    assert (report["trades"], report["windows"]) == (4, 4)
    assert report["symbols"] == [{"symbol": "BTC-USDT", "matched": 0, "only_original": 1, "only_reprocessed": 0}]
    assert report["total"] == {"matched": 0, "only_original": 1, "only_reprocessed": 0}
    assert (report["original_outside_span"], report["only_original_ids"], report["only_reprocessed_ids"]) == (
        4,
        [B],
        [],
    )
    assert spark.table(TABLES.reprocessed).where(f"as_of = '{as_of}'").count() == 0


def test_as_of_the_second_snapshot_by_id_replaces_an_earlier_run_with_other_settings(
    spark: SparkSession, snapshots: Snapshots
) -> None:
    as_of = str(snapshots.second_id)
    strict = JobConfig(job="volume-anomaly", anomaly_min_periods=3, anomaly_threshold=20.0)
    first = reprocess(spark, strict, parse_as_of(as_of), TABLES, RAN_AT - timedelta(days=1))
    assert (first["only_reprocessed_ids"], first["total"]) == (
        [ETH_4],  # z 24.49 > 20; BTC's 12.25 is not
        {"matched": 0, "only_original": 2, "only_reprocessed": 1},
    )

    report = reprocess(spark, CONFIG, parse_as_of(as_of), TABLES, RAN_AT)

    assert (report["as_of"], report["as_of_kind"], report["snapshot_id"]) == (as_of, "snapshot_id", as_of)
    assert (report["trades"], report["windows"]) == (10, 10)
    spans = report["span"]
    assert isinstance(spans, list)
    assert [(s["symbol"], s["exchange"], s["first_window_start"], s["last_window_start"]) for s in spans] == [
        ("BTC-USDT", "binance", "2024-01-01T00:00:00.000Z", "2024-01-01T00:04:00.000Z"),
        ("ETH-USDT", "coinbase", "2024-01-01T00:00:00.000Z", "2024-01-01T00:04:00.000Z"),
    ]
    # In span: A (matched by BTC 00:04) and B (only original); ETH 00:04 only reprocessed; C, D, E outside.
    assert report["symbols"] == [
        {"symbol": "BTC-USDT", "matched": 1, "only_original": 1, "only_reprocessed": 0},
        {"symbol": "ETH-USDT", "matched": 0, "only_original": 0, "only_reprocessed": 1},
    ]
    assert report["total"] == {"matched": 1, "only_original": 1, "only_reprocessed": 1}
    assert (report["original_outside_span"], report["only_original_ids"], report["only_reprocessed_ids"]) == (
        3,
        [B],
        [ETH_4],
    )
    assert report["settings"] == {"anomaly_threshold": 2.5, "anomaly_min_periods": 3}
    assert report["reprocessed_at"] == "2024-06-01T12:00:00.000Z"

    # The table holds this run's rows for the as_of, not the strict run's: a re-run replaces.
    tail = (2.5, RAN_AT, as_of, RAN_AT)  # threshold, detected_at, as_of, reprocessed_at
    expected = [
        (A, at(4), at(5), "BTC-USDT", "binance", 200.0, 1, 100.0, math.sqrt(200 / 3), 4, math.sqrt(150), *tail),
        (ETH_4, at(4), at(5), "ETH-USDT", "coinbase", 50.0, 1, 10.0, math.sqrt(8 / 3), 4, math.sqrt(600), *tail),
    ]
    assertDataFrameEqual(
        spark.table(TABLES.reprocessed).where(f"as_of = '{as_of}'"),
        spark.createDataFrame(expected, ANOMALY_REPROCESSED),
        rtol=1e-12,
    )


def test_a_time_before_the_first_snapshot_or_an_unknown_id_is_a_usage_error(
    spark: SparkSession, snapshots: Snapshots
) -> None:
    too_early = in_plus_one(snapshots.first_ms - 1)
    message = f"--as-of {too_early} is before the first snapshot of {TABLES.raw_trades} ("
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        reprocess(spark, CONFIG, parse_as_of(too_early), TABLES, RAN_AT)
    with pytest.raises(
        ConfigError, match=rf"^--as-of 12345: {TABLES.raw_trades} has no snapshot 12345; its newest are "
    ):
        reprocess(spark, CONFIG, parse_as_of("12345"), TABLES, RAN_AT)
    missing = Tables(f"{NS}.no_such_raw_trades", TABLES.anomalies, TABLES.reprocessed)
    with pytest.raises(ConfigError, match=re.escape("no table coattail.reprocess_test.no_such_raw_trades")):
        reprocess(spark, CONFIG, parse_as_of("12345"), missing, RAN_AT)


@pytest.mark.parametrize(
    "text", ["yesterday", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", "-5", "12ab", "1e9", ""]
)
def test_as_of_must_be_digits_or_a_time_with_a_zone(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--as-of .* (is neither a snapshot id|is not a valid time)"):
        parse_as_of(text)


def test_as_of_forms() -> None:
    assert parse_as_of("5301479425378617361") == AsOf("5301479425378617361", snapshot_id=5301479425378617361)
    assert parse_as_of("2024-05-01T14:00:00+02:00") == AsOf(
        "2024-05-01T14:00:00+02:00", moment=datetime(2024, 5, 1, 12, tzinfo=UTC)
    )
    assert parse_as_of("2024-05-01T12:00Z").moment == datetime(2024, 5, 1, 12, tzinfo=UTC)
    with pytest.raises(ConfigError, match="larger than any snapshot id"):
        parse_as_of("9223372036854775808")  # 2^63
    assert (
        default_report(parse_as_of("2024-05-01T14:00:00+02:00")) == ".coattail/reprocess/2024-05-01T14-00-00+02-00.json"
    )


def test_compare_counts_per_symbol() -> None:
    rows, only_original, only_reprocessed = compare(
        [("a", "BTC-USDT"), ("b", "BTC-USDT"), ("c", "ETH-USDT")],
        [("a", "BTC-USDT"), ("d", "SOL-USDT")],
        ["XRP-USDT"],
    )
    assert rows == [
        SymbolComparison("BTC-USDT", 1, 1, 0),
        SymbolComparison("ETH-USDT", 0, 1, 0),
        SymbolComparison("SOL-USDT", 0, 0, 1),
        SymbolComparison("XRP-USDT", 0, 0, 0),
    ]
    assert (only_original, only_reprocessed) == (["b", "c"], ["d"])


def test_bad_settings_and_emr_report_locations_are_usage_errors(tmp_path: Path) -> None:
    def args(**kw: object) -> argparse.Namespace:
        base: dict[str, object] = {"as_of": "1", "set": [], "report": None, "mode": "local", "warehouse": str(tmp_path)}
        return argparse.Namespace(**{**base, **kw})

    with pytest.raises(ConfigError, match=r"--set 'watermark=1 minute': reprocess-anomalies takes threshold, "):
        run_from_args(args(set=["watermark=1 minute"]))
    with pytest.raises(ConfigError, match=re.escape("--report 'out.json' is not on S3")):
        run_from_args(args(mode="emr", report="out.json"))


def test_the_report_goes_to_the_file_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report: dict[str, object] = {
        "as_of": "1",
        "snapshot_id": "1",
        "trades": 3,
        "windows": 2,
        "total": {"matched": 1, "only_original": 0, "only_reprocessed": 2},
    }
    emit(report, str(tmp_path / "r" / "1.json"))
    out, err = capsys.readouterr()
    assert json.loads(out) == {**report, "report": str(tmp_path / "r" / "1.json")}
    assert json.loads((tmp_path / "r" / "1.json").read_text()) == json.loads(out)
    assert err == (
        "reprocess-anomalies: raw_trades as of 1 (snapshot 1): 3 trades, 2 windows; matched 1, only original 0, "
        f"only reprocessed 2; report in {tmp_path / 'r' / '1.json'}\n"
    )
