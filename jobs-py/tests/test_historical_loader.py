"""historical-loader against a fake Binance (fake_binance.py, whose trades and range the lines below work
out): the load into the raw zone, its files, its command line. No Spark involved.

The fake exchange holds BTCUSDT trades with ids 1000 + k, k = 0..5399, one every 2 seconds from
2024-01-01T22:00:00Z (so the last, k = 5399, is at 2024-01-02T00:59:58Z). The range loaded is
[2024-01-01T23:30:01Z, 2024-01-02T00:20:00Z):
- the first trade at or after 23:30:01 is at 23:30:02: k = (5400 + 2) / 2 = 2701, id 3701;
- the last before 00:20:00 is at 00:19:58: k = (8400 - 2) / 2 = 4199, id 5199;
- 5199 - 3701 + 1 = 1499 trades: 899 on Jan 1 (k 2701..3599), 600 on Jan 2 (k 3600..4199);
- pages of 1000 by id: fromId 3701 (ids 3701..4700, the last at 00:03:20, inside), then fromId 4701 (ids
  4701..5700, the last at 00:36:40, past the end: the load stops).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds  # type: ignore[import-untyped]  # pyarrow ships no type information
import pytest

from coattail_jobs.batch.binance_rest import LoaderError
from coattail_jobs.batch.historical_loader import load, run_from_args
from coattail_jobs.config import ConfigError

from .fake_binance import END, START, T0, FakeBinance, FakeTime, Fault, ms, rest_client, running_exchange

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def exchange() -> Iterator[tuple[FakeBinance, str]]:
    yield from running_exchange()


# ---------------------------------------------------------------- the unified trade's JSON Schema


def check_against_json_schema(record: Mapping[str, object], schema: Mapping[str, Any]) -> list[str]:
    """The violations of the keywords docs/unified-trade.schema.json uses (an unknown keyword fails the test)."""
    known = {"type", "const", "pattern", "enum", "minLength", "exclusiveMinimum", "description"}
    problems = []
    for name, rules in schema["properties"].items():
        assert set(rules) <= known, f"the check does not know {set(rules) - known}"
        value = record.get(name)
        json_types: dict[str, type | tuple[type, ...]] = {"string": str, "number": (int, float)}
        json_type = json_types[rules["type"]]
        if not isinstance(value, json_type) or isinstance(value, bool):
            problems.append(f"{name}: {value!r} is not a {rules['type']}")
            continue
        if "const" in rules and value != rules["const"]:
            problems.append(f"{name}: {value!r} != {rules['const']!r}")
        if "enum" in rules and value not in rules["enum"]:
            problems.append(f"{name}: {value!r} not in {rules['enum']}")
        if "pattern" in rules and not re.search(rules["pattern"], str(value)):
            problems.append(f"{name}: {value!r} does not match {rules['pattern']}")
        if "minLength" in rules and len(str(value)) < rules["minLength"]:
            problems.append(f"{name}: {value!r} is too short")
        if "exclusiveMinimum" in rules and not float(str(value)) > rules["exclusiveMinimum"]:
            problems.append(f"{name}: {value!r} is not above {rules['exclusiveMinimum']}")
    problems += [f"{name} is missing" for name in schema["required"] if name not in record]
    if schema.get("additionalProperties") is False:
        problems += [f"{name} is not in the schema" for name in record if name not in schema["properties"]]
    return problems


def read_back(raw_root: Path) -> list[dict[str, object]]:
    """Every loaded trade as the unified trade: the Hive folders give symbol (and date, dropped)."""
    table = ds.dataset(str(raw_root / "historical"), format="parquet", partitioning="hive").to_table()
    rows: list[dict[str, object]] = table.to_pylist()
    for row in rows:
        row["symbol"] = str(row["symbol"])
        del row["date"]
    return sorted(rows, key=lambda r: int(str(r["trade_id"])))


def data_files(raw_root: Path) -> list[str]:
    return sorted(str(p.relative_to(raw_root)) for p in raw_root.rglob("*") if p.is_file())


FILE_NAME = "trades-20240101T233001Z-20240102T002000Z.parquet"
JAN_1 = f"historical/date=2024-01-01/symbol=BTC-USDT/{FILE_NAME}"
JAN_2 = f"historical/date=2024-01-02/symbol=BTC-USDT/{FILE_NAME}"


# ---------------------------------------------------------------- tests


def test_pages_by_id_backs_off_on_429_418_5xx_and_the_weight_budget_and_writes_unified_trades(
    exchange: tuple[FakeBinance, str], tmp_path: Path
) -> None:
    state, url = exchange
    state.faults["/api/v3/historicalTrades"] = [
        Fault(429, {"Retry-After": "3"}, '{"code":-1003,"msg":"Too many requests."}'),
        Fault(418, {"Retry-After": "2"}, '{"code":-1003,"msg":"Way too many requests; IP banned."}'),
        Fault(503, {}, "Service Unavailable"),
    ]
    # The first page's answer says this IP used 4790 of the minute: the next page (25) would pass 4800.
    state.weight_overrides = [4, 4790]
    clock = FakeTime()
    rest = rest_client(url, clock)

    summary = load(rest, "BTC-USDT", START, END, str(tmp_path), now=clock.time)

    page = {"symbol": "BTCUSDT", "limit": "1000"}
    assert state.requests == [
        # endTime is inclusive: the range's end minus 1 ms (the range is shorter than the hour allowed).
        ("/api/v3/aggTrades", {**page, "startTime": str(ms(START)), "endTime": str(ms(END) - 1), "limit": "1"}),
        ("/api/v3/historicalTrades", {**page, "fromId": "3701"}),  # 429
        ("/api/v3/historicalTrades", {**page, "fromId": "3701"}),  # 418
        ("/api/v3/historicalTrades", {**page, "fromId": "3701"}),  # 503
        ("/api/v3/historicalTrades", {**page, "fromId": "3701"}),
        ("/api/v3/historicalTrades", {**page, "fromId": "4701"}),
    ]
    # Retry-After 3 and 2; the 503 on the 4th attempt: 0.5 (jitter) x 0.5 s x 2^2 = 1.0; then the clock is at
    # T0 + 6 = 1_700_000_036, and the weight budget waits for the minute at 1_700_000_040, plus 1 s: 5.0.
    assert clock.sleeps == [3.0, 2.0, 1.0, 5.0]
    assert summary.rest == {
        "requests": 6,
        "weight_waits": 1,
        "rate_limited": 1,
        "banned": 1,
        "retried_errors": 1,
        "waited_s": 11.0,
    }
    assert (summary.trades, summary.rejected, summary.first_trade_id, summary.last_trade_id) == (
        1499,
        0,
        "3701",
        "5199",
    )
    assert summary.files == [
        {"date": "2024-01-01", "path": str(tmp_path / JAN_1), "trades": 899},
        {"date": "2024-01-02", "path": str(tmp_path / JAN_2), "trades": 600},
    ]
    assert data_files(tmp_path) == [JAN_1, JAN_2]  # no draft left behind

    rows = read_back(tmp_path)
    assert [int(str(r["trade_id"])) for r in rows] == list(range(3701, 5200))
    # k = 2701: odd, so the buyer was the taker; price and qty overridden to 0.1 and 0.3; 23:30:02; the first
    # page arrived at T0 + 6 s = 2023-11-14T22:13:56Z.
    assert rows[0] == {
        "schema_version": 1,
        "event_id": "binance:BTC-USDT:3701",
        "exchange": "binance",
        "trade_id": "3701",
        "price": 0.1,
        "quantity": 0.3,
        "quote_volume": 0.03,
        "side": "buy",
        "timestamp": "2024-01-01T23:30:02.000Z",
        "ingested_at": "2023-11-14T22:13:56.000Z",
        "symbol": "BTC-USDT",
    }
    # k = 4199 (id 5199): 4199 % 7 = 6, 4199 % 100 = 99, 4199 % 13 = 0 -> 42006.99 x 0.001 = 42.00699; odd, so a
    # buy; 00:19:58; its page arrived after the weight wait, at T0 + 11 s = 22:14:01.
    assert rows[-1] == {
        "schema_version": 1,
        "event_id": "binance:BTC-USDT:5199",
        "exchange": "binance",
        "trade_id": "5199",
        "price": 42006.99,
        "quantity": 0.001,
        "quote_volume": 42.00699,
        "side": "buy",
        "timestamp": "2024-01-02T00:19:58.000Z",
        "ingested_at": "2023-11-14T22:14:01.000Z",
        "symbol": "BTC-USDT",
    }
    # k = 2702 (id 3702): even, so the buyer was the maker and the taker sold.
    assert (rows[1]["side"], rows[1]["timestamp"]) == ("sell", "2024-01-01T23:30:04.000Z")
    schema = json.loads((REPO / "docs" / "unified-trade.schema.json").read_text())
    assert [p for row in rows for p in check_against_json_schema(row, schema)] == []


def test_a_rerun_of_the_same_range_replaces_its_own_files_and_keeps_other_ranges(
    exchange: tuple[FakeBinance, str], tmp_path: Path
) -> None:
    _, url = exchange
    load(rest_client(url, FakeTime()), "BTC-USDT", START, END, str(tmp_path), now=FakeTime().time)
    first = read_back(tmp_path)
    other = tmp_path / "historical" / "date=2024-01-01" / "symbol=BTC-USDT" / "trades-other-range.parquet"
    (tmp_path / JAN_1).rename(other)  # as if an earlier, different range had written it
    (tmp_path / JAN_1).write_bytes((tmp_path / JAN_2).read_bytes())  # and this range's file were stale

    later = FakeTime(T0 + 3600)
    summary = load(rest_client(url, later), "BTC-USDT", START, END, str(tmp_path), now=later.time)

    assert summary.trades == 1499
    assert data_files(tmp_path) == [
        JAN_1,
        "historical/date=2024-01-01/symbol=BTC-USDT/trades-other-range.parquet",
        JAN_2,
    ]
    again = ds.dataset(str(tmp_path / JAN_1), format="parquet").to_table().to_pylist()
    assert [r["trade_id"] for r in again] == [str(i) for i in range(3701, 4600)]  # Jan 1: ids 3701..4599
    assert [{**r, "ingested_at": None} for r in again] == [
        {k: v for k, v in r.items() if k != "symbol"} | {"ingested_at": None} for r in first[:899]
    ]


def test_a_trade_whose_time_is_not_an_integer_is_rejected_and_the_load_goes_on(
    exchange: tuple[FakeBinance, str], tmp_path: Path
) -> None:
    state, url = exchange
    by_id = {t["id"]: t for t in state.trades}
    by_id[4000]["time"] = str(by_id[4000]["time"])  # k = 3000: 23:40:00 on Jan 1, as text
    by_id[4700]["time"] = by_id[4700]["time"] + 0.5  # k = 3700: 00:03:20 on Jan 2, the first page's last trade
    clock = FakeTime()

    summary = load(rest_client(url, clock), "BTC-USDT", START, END, str(tmp_path), now=clock.time)

    # 1499 trades in the range (see the module doc), 2 of them rejected; the pages are the same two.
    assert (summary.trades, summary.rejected) == (1497, 2)
    assert [p["fromId"] for path, p in state.requests if path == "/api/v3/historicalTrades"] == ["3701", "4701"]
    assert [f["trades"] for f in summary.files] == [899 - 1, 600 - 1]
    loaded = [int(str(r["trade_id"])) for r in read_back(tmp_path)]
    assert loaded == [i for i in range(3701, 5200) if i not in (4000, 4700)]


def test_a_long_ban_or_a_refusal_stops_the_load_with_one_line(
    exchange: tuple[FakeBinance, str], tmp_path: Path
) -> None:
    state, url = exchange
    state.faults["/api/v3/aggTrades"] = [Fault(418, {"Retry-After": "7200"}, '{"code":-1003,"msg":"banned"}')]
    clock = FakeTime()
    with pytest.raises(LoaderError, match=r"banned this IP \(HTTP 418\) for 7200 s"):
        load(rest_client(url, clock), "BTC-USDT", START, END, str(tmp_path))
    assert clock.sleeps == []  # two hours is not waited out

    state.faults["/api/v3/aggTrades"] = [Fault(400, {}, '{"code":-1121,"msg":"Invalid symbol."}')]
    with pytest.raises(LoaderError, match=r"^Binance refused GET /api/v3/aggTrades: HTTP 400 -1121: Invalid symbol\.$"):
        load(rest_client(url, FakeTime()), "BTC-USDT", START, END, str(tmp_path))
    assert not (tmp_path / "historical").exists() or data_files(tmp_path) == []


@pytest.mark.parametrize(
    ("symbol", "start", "end", "message"),
    [
        ("BTCUSDT", "2024-01-01", "2024-01-02", "--symbol 'BTCUSDT' is not BASE-QUOTE"),
        ("BTC-USDT", "2024-01-01T00:00", "2024-01-02", "--start '2024-01-01T00:00' is not an ISO-8601 time"),
        ("BTC-USDT", "2024-02-30", "2024-03-01", "--start '2024-02-30' is not a date"),
        ("BTC-USDT", "2024-01-02", "2024-01-01", "--end 2024-01-01 is not after --start 2024-01-02"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(symbol: str, start: str, end: str, message: str) -> None:
    args = argparse.Namespace(
        symbol=symbol,
        start=start,
        end=end,
        mode="local",
        raw_root=".",
        base_url="http://x",
        max_weight=4800,
        json=False,
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_from_args(args)


def test_the_command_prints_a_line_and_with_json_the_summary(
    exchange: tuple[FakeBinance, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = exchange
    args = argparse.Namespace(
        symbol="btc-usdt",
        start="2024-01-01T23:30:01Z",
        end="2024-01-02T00:20:00Z",
        mode="local",
        raw_root=str(tmp_path),
        base_url=url,
        max_weight=4800,
        json=True,
    )
    assert run_from_args(args) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert (summary["symbol"], summary["start"], summary["end"], summary["trades"]) == (
        "BTC-USDT",
        "2024-01-01T23:30:01Z",
        "2024-01-02T00:20:00Z",
        1499,
    )
    assert [f["trades"] for f in summary["files"]] == [899, 600]
    assert err == (
        "historical-loader: 1499 BTC-USDT trades from 2024-01-01T23:30:01Z to 2024-01-02T00:20:00Z in 2 file(s) "
        f"under {tmp_path}/historical (3 requests, 0 weight waits, 0 rejected)\n"
    )
    assert data_files(tmp_path) == [JAN_1, JAN_2]
