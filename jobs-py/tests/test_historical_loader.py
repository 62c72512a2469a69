"""historical-loader against fake exchanges (fake_binance.py, fake_coinbase.py: their trades and ranges, and what
a load must fetch, are worked out in their module docs) into Iceberg raw_trades in local Spark, read back with
pyiceberg: the trades land once, a re-run adds nothing, a trade already archived live is not duplicated (in
either time precision), a stopped load resumes, and reprocess-anomalies sees the loaded trades as of the load.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from coattail_jobs.batch.binance_rest import LoaderError
from coattail_jobs.batch.coinbase_rest import CoinbaseRest
from coattail_jobs.batch.historical_loader import binance_source, check_args, coinbase_source, load, run_from_args
from coattail_jobs.batch.lake import current_snapshot
from coattail_jobs.batch.reprocess import Tables, parse_as_of, reprocess
from coattail_jobs.config import ConfigError, JobConfig
from coattail_jobs.jobs.raw_archiver import merge_raw_trades, raw_trade_rows
from coattail_jobs.parse import parse_trades
from coattail_jobs.schemas import TABLES_BY_NAME
from coattail_jobs.writers import ensure_tables

from . import fake_coinbase
from .fake_binance import END, START, T0, FakeBinance, FakeTime, Fault, ms, rest_client, running_exchange
from .iceberg_files import read_rows, static_table

NS = "coattail.loader_test"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def binance() -> Iterator[tuple[FakeBinance, str]]:
    yield from running_exchange()


@pytest.fixture
def coinbase() -> Iterator[tuple[fake_coinbase.FakeCoinbase, str]]:
    yield from fake_coinbase.running_exchange()


def archive_live(spark: SparkSession, table: str, record: dict[str, object], sequence_number: str) -> None:
    """One trade archived as raw-archiver archives it from Kinesis (its parse, its rows, its MERGE)."""
    ensure_tables(spark, [TABLES_BY_NAME["raw_trades"]], lambda _: table)
    df = spark.createDataFrame([(json.dumps(record), sequence_number)], "data string, sequence_number string")
    merge_raw_trades(raw_trade_rows(parse_trades(df)), table)


def live_binance_trade(trade_id: int, timestamp: str) -> dict[str, object]:
    """What ingest would have sent for fake Binance trade ``trade_id`` (k = id - 1000; fake_binance.py)."""
    k = trade_id - 1000
    price, qty = f"{42000 + k % 7}.{k % 100:02d}", f"0.{k % 13 + 1:03d}00000"
    return {
        "schema_version": 1, "event_id": f"binance:BTC-USDT:{trade_id}", "exchange": "binance", "symbol": "BTC-USDT",
        "trade_id": str(trade_id), "price": float(price), "quantity": float(qty), "quote_volume": 1.0,
        "side": "sell" if k % 2 == 0 else "buy", "timestamp": timestamp, "ingested_at": "2024-01-02T00:19:58.100Z",
    }  # fmt: skip


def test_a_binance_range_lands_once_beside_a_live_copy_and_reprocess_sees_it(
    spark: SparkSession, warehouse: Path, binance: tuple[FakeBinance, str]
) -> None:
    table = f"{NS}.raw_trades_binance"
    # Trade 5199 (k = 4199), the range's last, archived live with microseconds: 00:19:58 + 7 x 4199 mod 1000 =
    # 393 µs. The load asks for milliseconds, so its copy says 00:19:58.000, 393 µs before the live one.
    archive_live(spark, table, live_binance_trade(5199, "2024-01-02T00:19:58.000393Z"), "4960000000000000001")
    before_load = current_snapshot(spark, table)
    assert before_load is not None

    state, url = binance
    state.faults["/api/v3/historicalTrades"] = [
        Fault(429, {"Retry-After": "3"}, '{"code":-1003,"msg":"Too many requests."}'),
        Fault(418, {"Retry-After": "2"}, '{"code":-1003,"msg":"Way too many requests; IP banned."}'),
        Fault(503, {}, "Service Unavailable"),
    ]
    # The first page's answer says this IP used 4790 of the minute: the next page (25) would pass 4800.
    state.weight_overrides = [4, 4790]
    clock = FakeTime()
    rest = rest_client(url, clock)
    summary = load(spark, binance_source(rest, "BTC-USDT"), table, START, END, now=clock.time)

    page = {"symbol": "BTCUSDT", "limit": "1000"}
    assert state.requests == [
        ("/api/v3/aggTrades", {**page, "startTime": str(ms(START)), "endTime": str(ms(END) - 1), "limit": "1"}),
        *[("/api/v3/historicalTrades", {**page, "fromId": "3701"})] * 4,  # 429, 418, 503, then the page
        ("/api/v3/historicalTrades", {**page, "fromId": "4701"}),
    ]
    # Retry-After 3 and 2; the 503: 0.5 (jitter) x 0.5 s x 2^2 = 1.0; then at T0 + 6 = 1_700_000_036 the weight
    # budget waits for the minute at 1_700_000_040, plus 1 s: 5.0.
    assert clock.sleeps == [3.0, 2.0, 1.0, 5.0]
    assert summary.rest == {
        "requests": 6, "weight_waits": 1, "rate_limited": 1, "banned": 1, "retried_errors": 1, "waited_s": 11.0,
        "weight_spent": 4 + 5 * 25, "max_used_weight": 4790,
    }  # fmt: skip
    # 1499 trades in the range (fake_binance.py), one of them already there.
    assert (summary.pages, summary.trades, summary.inserted, summary.already_present, summary.rejected) == (
        2, 1499, 1498, 1, 0,
    )  # fmt: skip
    assert (summary.first_trade_id, summary.last_trade_id, summary.commits) == ("3701", "5199", 1)

    rows = read_rows(warehouse, table)
    assert [r["event_id"] for r in rows] == [f"binance:BTC-USDT:{i}" for i in range(3701, 5200)]
    # k = 2701: odd, so the buyer was the taker; price and qty overridden to 0.1 and 0.3; 23:30:02; the first
    # page arrived at T0 + 6 s = 2023-11-14T22:13:56Z.
    first = {k: v for k, v in rows[0].items() if k != "archived_at"}
    assert first == {
        "event_id": "binance:BTC-USDT:3701", "exchange": "binance", "symbol": "BTC-USDT", "trade_id": "3701",
        "price": 0.1, "quantity": 0.3, "quote_volume": 0.03, "side": "buy", "trade_time": at("2024-01-01T23:30:02Z"),
        "ingested_at": at("2023-11-14T22:13:56Z"), "schema_version": 1, "kinesis_sequence_number": None,
    }  # fmt: skip
    # k = 2702: even, so the buyer was the maker and the taker sold.
    assert (rows[1]["side"], rows[1]["trade_time"]) == ("sell", at("2024-01-01T23:30:04Z"))
    # The live copy of 5199 stays as archived: its microseconds and its Kinesis sequence number.
    assert (rows[-1]["trade_time"], rows[-1]["kinesis_sequence_number"]) == (
        at("2024-01-02T00:19:58.000393Z"),
        "4960000000000000001",
    )
    # k = 4198 (id 5198): 4198 % 7 = 5, % 100 = 98, % 13 = 12 -> 42005.98 x 0.013 = 546.07774; even: a sell.
    assert (rows[-2]["price"], rows[-2]["quantity"], rows[-2]["quote_volume"], rows[-2]["side"]) == (
        42005.98, 0.013, 546.07774, "sell",
    )  # fmt: skip
    days = Counter(r["trade_time"].date().isoformat() for r in rows)  # type: ignore[attr-defined]
    assert days == {"2024-01-01": 899, "2024-01-02": 600}
    spec = static_table(warehouse, table).spec()
    assert [(f.name, str(f.transform)) for f in spec.fields] == [("trade_time_day", "day"), ("symbol", "identity")]

    # The same range again: nothing new.
    again = load(spark, binance_source(rest_client(url, FakeTime(T0 + 3600)), "BTC-USDT"), table, START, END)
    assert (again.trades, again.inserted, again.already_present) == (1499, 0, 1499)
    assert len(read_rows(warehouse, table)) == 1499

    # reprocess-anomalies as of before the load sees the live trade only; as of the load, all of them.
    tables = Tables(table, f"{NS}.anomalies", f"{NS}.anomalies_reprocessed")
    config = JobConfig(job="volume-anomaly")
    ran_at = datetime(2024, 6, 1, tzinfo=UTC)
    assert reprocess(spark, config, parse_as_of(before_load), tables, ran_at)["trades"] == 1
    assert summary.snapshot_id is not None
    after = reprocess(spark, config, parse_as_of(summary.snapshot_id), tables, ran_at)
    assert (after["trades"], after["windows"]) == (1499, 50)  # 23:30 to 00:19: 30 + 20 one-minute windows


def test_microseconds_from_binance_meet_a_live_copy_in_milliseconds(
    spark: SparkSession, warehouse: Path, binance: tuple[FakeBinance, str]
) -> None:
    table = f"{NS}.raw_trades_micros"
    # Trade 3701, the range's first, archived live in ms; the load asks for µs: 23:30:02 + 7 x 2701 mod 1000 = 907 µs.
    archive_live(spark, table, live_binance_trade(3701, "2024-01-01T23:30:02.000Z"), "4960000000000000002")
    _, url = binance
    rest = rest_client(url, FakeTime(), time_unit="us")
    summary = load(spark, binance_source(rest, "BTC-USDT"), table, START, END)

    assert (summary.trades, summary.inserted, summary.already_present) == (1499, 1498, 1)
    rows = read_rows(warehouse, table)
    assert len(rows) == 1499
    assert rows[0]["trade_time"] == at("2024-01-01T23:30:02Z")  # the live copy
    # k = 2702: 23:30:04 + 7 x 2702 mod 1000 = 914 µs; k = 4199: 00:19:58 + 393 µs.
    assert rows[1]["trade_time"] == at("2024-01-01T23:30:04.000914Z")
    assert rows[-1]["trade_time"] == at("2024-01-02T00:19:58.000393Z")


def test_a_live_copy_in_microseconds_meets_a_trade_loaded_before_in_milliseconds(
    spark: SparkSession, warehouse: Path, binance: tuple[FakeBinance, str]
) -> None:
    table = f"{NS}.raw_trades_loaded_first"
    _, url = binance
    summary = load(spark, binance_source(rest_client(url, FakeTime()), "BTC-USDT"), table, START, END)
    assert (summary.trades, summary.inserted) == (1499, 1499)
    # Then trade 3701 archived live in µs: 23:30:02 + 907 µs, past its loaded copy's 23:30:02.000 by 907 µs.
    archive_live(spark, table, live_binance_trade(3701, "2024-01-01T23:30:02.000907Z"), "4960000000000000002")

    rows = read_rows(warehouse, table)
    assert len(rows) == 1499
    copies = [r for r in rows if r["event_id"] == "binance:BTC-USDT:3701"]
    assert [r["trade_time"] for r in copies] == [at("2024-01-01T23:30:02Z")]  # the loaded copy, alone


def test_coinbase_history_pages_back_by_cursor_into_the_same_table(
    spark: SparkSession, warehouse: Path, coinbase: tuple[fake_coinbase.FakeCoinbase, str]
) -> None:
    table = f"{NS}.raw_trades_coinbase"
    _, url = coinbase
    clock = FakeTime()
    rest = CoinbaseRest(base_url=url, clock=clock.time, sleep=clock.sleep)
    summary = load(spark, coinbase_source(rest, "BTC-USD"), table, fake_coinbase.START, fake_coinbase.END)

    assert (summary.pages, summary.trades, summary.inserted, summary.already_present) == (3, 2000, 2000, 0)
    assert (summary.first_trade_id, summary.last_trade_id) == ("601", "2600")
    rows = sorted(read_rows(warehouse, table), key=lambda r: int(str(r["trade_id"])))
    assert [r["trade_id"] for r in rows] == [str(i) for i in range(601, 2601)]
    # k = 600: exactly 22:30:00 (no fraction sent), 0.1 x 0.3; k mod 3 = 0: the maker sold, so the taker bought.
    assert (rows[0]["event_id"], rows[0]["trade_time"], rows[0]["quote_volume"], rows[0]["side"]) == (
        "coinbase:BTC-USD:601", at("2024-01-01T22:30:00Z"), 0.03, "buy",
    )  # fmt: skip
    # k = 625 (mod 50 = 25: 3 digits): 7919 x 625 mod 1000 = 375 -> 22:31:15.375.
    assert rows[25]["trade_time"] == at("2024-01-01T22:31:15.375Z")
    # k = 2599: 7797 s after 22:00 = 00:09:57; 7919 x 2599 mod 10^6 = 581481; mod 3 = 1: the maker bought.
    last = rows[-1]
    assert (last["trade_time"], last["side"], last["exchange"], last["symbol"]) == (
        at("2024-01-02T00:09:57.581481Z"), "sell", "coinbase", "BTC-USD",
    )  # fmt: skip
    # 2599 % 11 = 3, % 100 = 99, % 17 = 15 -> 42003.99 x 0.0016 = 67.206384.
    assert (last["price"], last["quantity"], last["quote_volume"]) == (42003.99, 0.0016, 67.206384)
    assert Counter(r["trade_time"].date().isoformat() for r in rows) == {"2024-01-01": 1800, "2024-01-02": 200}  # type: ignore[attr-defined]


def test_a_load_stopped_half_way_keeps_its_commits_and_a_rerun_adds_the_rest(
    spark: SparkSession, warehouse: Path, binance: tuple[FakeBinance, str]
) -> None:
    table = f"{NS}.raw_trades_resume"
    _, url = binance
    # The second page is refused: the first page's 1000 trades are committed (a commit once 500 or more wait).
    source = binance_source(rest_client(url, FakeTime()), "BTC-USDT")
    pages = source.pages

    def refuse_second(start_us: int, end_us: int, now: object) -> Iterator[tuple[list[dict[str, object]], int]]:
        for n, page in enumerate(pages(start_us, end_us, FakeTime().time)):
            if n == 1:
                raise LoaderError("Binance refused GET /api/v3/historicalTrades: HTTP 400 -1121: Invalid symbol.")
            yield page

    source.pages = refuse_second
    with pytest.raises(LoaderError, match="Invalid symbol"):
        load(spark, source, table, START, END, commit_rows=500)
    assert len(read_rows(warehouse, table)) == 1000  # ids 3701..4700

    rerun = load(spark, binance_source(rest_client(url, FakeTime()), "BTC-USDT"), table, START, END, commit_rows=500)
    assert (rerun.trades, rerun.inserted, rerun.already_present, rerun.commits) == (1499, 499, 1000, 2)
    assert [r["trade_id"] for r in read_rows(warehouse, table)] == [str(i) for i in range(3701, 5200)]


def namespace(**overrides: object) -> argparse.Namespace:
    args: dict[str, object] = {
        "exchange": "binance", "symbol": "BTC-USDT", "exchange_symbol": None, "start": "2024-01-01T23:30:01Z",
        "end": "2024-01-02T00:20:00Z", "mode": "local", "warehouse": ".", "base_url": None, "binance_time_unit": "ms",
        "max_weight": 4800, "commit_rows": 200_000, "json": False,
    }  # fmt: skip
    return argparse.Namespace(**{**args, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symbol": "BTCUSDT"}, "--symbol 'BTCUSDT' is not BASE-QUOTE"),
        ({"start": "2024-01-01T00:00"}, "--start '2024-01-01T00:00' is not an ISO-8601 time"),
        ({"start": "2024-02-30"}, "--start '2024-02-30' is not a date"),
        ({"start": "2024-01-02", "end": "2024-01-01"}, "--end 2024-01-01 is not after --start 2024-01-02"),
        ({"max_weight": 10}, "--max-weight 10 is not between 25 and 6000"),
        ({"commit_rows": 0}, "--commit-rows 0 is not a positive number of trades"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_args(namespace(**overrides))


def test_the_command_loads_into_the_jobs_raw_trades_and_prints_the_summary(
    spark: SparkSession, warehouse: Path, binance: tuple[FakeBinance, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = binance
    assert run_from_args(namespace(symbol="btc-usdt", base_url=url, warehouse=str(warehouse), json=True)) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert {k: summary[k] for k in ("exchange", "symbol", "start", "end", "table", "pages", "trades", "inserted")} == {
        "exchange": "binance", "symbol": "BTC-USDT", "start": "2024-01-01T23:30:01Z", "end": "2024-01-02T00:20:00Z",
        "table": "coattail.crypto_pulse.raw_trades", "pages": 2, "trades": 1499, "inserted": 1499,
    }  # fmt: skip
    assert err.strip().splitlines()[-1] == (
        "historical-loader: 1499 binance BTC-USDT trades from 2024-01-01T23:30:01Z to 2024-01-02T00:20:00Z in 2 pages; "
        "1499 inserted into coattail.crypto_pulse.raw_trades, 0 already there, 0 rejected (3 requests, weight 54); "
        f"snapshot {summary['snapshot_id']}"
    )
    assert summary["snapshot_id"] == str(
        static_table(warehouse, "coattail.crypto_pulse.raw_trades").metadata.current_snapshot_id
    )
