"""historical-loader against a local HTTP server speaking Binance's REST format (no Spark involved).

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
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow.dataset as ds  # type: ignore[import-untyped]  # pyarrow ships no type information
import pytest

from coattail_jobs.batch.binance_rest import BinanceRest, LoaderError, first_trade_id, to_unified
from coattail_jobs.batch.historical_loader import load, run_from_args
from coattail_jobs.config import ConfigError

REPO = Path(__file__).resolve().parents[2]
FIRST_TRADE = datetime(2024, 1, 1, 22, tzinfo=UTC)
START = datetime(2024, 1, 1, 23, 30, 1, tzinfo=UTC)
END = datetime(2024, 1, 2, 0, 20, tzinfo=UTC)
T0 = 1_700_000_030.0
"""The fake clock's start: 30 s into a minute (1_699_999_980 is a minute boundary), 2023-11-14T22:13:50Z."""


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------- the fake exchange


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class FakeBinance:
    """Trades, a log of the requests, and faults (or weight headers) to answer the next requests of a path with."""

    trades: list[dict[str, Any]]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    weight_overrides: list[int] = field(default_factory=list)
    """X-MBX-USED-WEIGHT-1M of the next successful answers (else the running total of weights)."""
    used: int = 0

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        self.requests.append((path, params))
        weight = {"/api/v3/historicalTrades": 25, "/api/v3/aggTrades": 4}.get(path, 1)
        self.used += weight
        if self.faults.get(path):
            fault = self.faults[path].pop(0)
            return fault.status, {"X-MBX-USED-WEIGHT-1M": str(self.used), **fault.headers}, fault.body
        headers = {"X-MBX-USED-WEIGHT-1M": str(self.weight_overrides.pop(0) if self.weight_overrides else self.used)}
        if path == "/api/v3/historicalTrades":
            start = int(params["fromId"])
            page = [t for t in self.trades if t["id"] >= start][: int(params["limit"])]
            return 200, headers, json.dumps(page)
        if path == "/api/v3/aggTrades":
            lo, hi = int(params["startTime"]), int(params["endTime"])
            if hi - lo >= 3_600_000:
                return 400, headers, '{"code":-1127,"msg":"More than 1 hours between startTime and endTime."}'
            # aggTrades is a view of its own: a trade the test garbles in historicalTrades is not in it.
            timed = [t for t in self.trades if isinstance(t["time"], int)]
            hits = [t for t in timed if lo <= t["time"] <= hi][: int(params["limit"])]
            aggregates = [
                {"a": t["id"] + 900_000, "p": t["price"], "q": t["qty"], "f": t["id"], "l": t["id"], "T": t["time"]}
                | {"m": t["isBuyerMaker"], "M": True}
                for t in hits
            ]
            return 200, headers, json.dumps(aggregates)
        return 400, headers, '{"code":-1100,"msg":"Illegal characters found in a parameter."}'


def binance_trades() -> list[dict[str, Any]]:
    trades = []
    for k in range(5400):
        trade_id = 1000 + k
        price, qty = f"{42000 + k % 7}.{k % 100:02d}", f"0.{k % 13 + 1:03d}00000"
        if trade_id == 3701:
            price, qty = "0.10000000", "0.30000000"  # 0.1 x 0.3: 0.03 in decimal, 0.030000000000000002 in floats
        trades.append(
            {
                "id": trade_id,
                "price": price,
                "qty": qty,
                "quoteQty": "0",  # Binance sends it; the loader computes its own from the strings
                "time": ms(FIRST_TRADE) + 2000 * k,
                "isBuyerMaker": k % 2 == 0,
                "isBestMatch": True,
            }
        )
    return trades


@pytest.fixture
def exchange() -> Iterator[tuple[FakeBinance, str]]:
    state = FakeBinance(binance_trades())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, headers, body = state.answer(url.path, dict(parse_qsl(url.query)))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test asserts the request log instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class FakeTime:
    """A clock that only sleeping moves."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def rest_client(base_url: str, clock: FakeTime, **kwargs: Any) -> BinanceRest:
    return BinanceRest(base_url=base_url, clock=clock.time, sleep=clock.sleep, jitter=lambda: 0.5, **kwargs)


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


def test_the_first_trade_probe_walks_empty_hours_with_windows_under_an_hour(exchange: tuple[FakeBinance, str]) -> None:
    state, url = exchange
    start = datetime(2024, 1, 1, 20, 30, tzinfo=UTC)  # trades begin at 22:00: 20:30..21:29:59.999 is empty
    assert first_trade_id(rest_client(url, FakeTime()), "BTC-USDT", ms(start), ms(start + timedelta(hours=5))) == 1000
    hour = 3_600_000
    first = ms(start)
    assert [p for _, p in state.requests] == [
        {"symbol": "BTCUSDT", "startTime": str(first), "endTime": str(first + hour - 1), "limit": "1"},
        {"symbol": "BTCUSDT", "startTime": str(first + hour), "endTime": str(first + 2 * hour - 1), "limit": "1"},
    ]
    # A range with no trades at all: every hour probed, then nothing.
    state.requests.clear()
    empty = datetime(2024, 1, 1, 19, tzinfo=UTC)
    assert first_trade_id(rest_client(url, FakeTime()), "BTC-USDT", ms(empty), ms(empty) + 90 * 60_000) is None
    assert [(p["startTime"], p["endTime"]) for _, p in state.requests] == [
        (str(ms(empty)), str(ms(empty) + hour - 1)),
        (str(ms(empty) + hour), str(ms(empty) + 90 * 60_000 - 1)),
    ]


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


def test_5xx_is_retried_with_growing_backoff_then_given_up(exchange: tuple[FakeBinance, str]) -> None:
    state, url = exchange
    state.faults["/api/v3/aggTrades"] = [Fault(502) for _ in range(3)]
    clock = FakeTime()
    with pytest.raises(LoaderError, match="failed 3 times, the last with HTTP 502"):
        rest_client(url, clock, max_attempts=3).get("/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 1}, 4)
    assert clock.sleeps == [0.25, 0.5]  # 0.5 (jitter) x 0.5 s x 2^0, 2^1; none after the last attempt


def test_connection_errors_are_retried() -> None:
    clock = FakeTime()
    rest = rest_client("http://127.0.0.1:9", clock, max_attempts=2)  # the discard port: nothing listens
    with pytest.raises(LoaderError, match="failed 2 times"):
        rest.get("/api/v3/aggTrades", {"symbol": "BTCUSDT"}, 4)
    assert (rest.stats.retried_errors, clock.sleeps) == (2, [0.25])


def test_normalization_matches_the_producer() -> None:
    # The producer's own sample frame (EXCHANGES.md): p 0.00426990, q 33.82000000, T 1554076800940, m false.
    raw = {"id": 40756030, "price": "0.00426990", "qty": "33.82000000", "time": 1554076800940, "isBuyerMaker": False}
    assert to_unified(raw, "BNB-BTC", "2019-04-01T00:00:01.000Z") == {
        "schema_version": 1,
        "event_id": "binance:BNB-BTC:40756030",
        "exchange": "binance",
        "trade_id": "40756030",
        "price": 0.0042699,
        "quantity": 33.82,
        "quote_volume": 0.144408018,  # the decimal product; float multiplication gives 0.14440801799999998
        "side": "buy",
        "timestamp": "2019-04-01T00:00:00.940Z",
        "ingested_at": "2019-04-01T00:00:01.000Z",
    }
    for bad in ({**raw, "price": "-1"}, {**raw, "qty": "1e5"}, {**raw, "isBuyerMaker": "no"}, {**raw, "time": "x"}):
        with pytest.raises(ValueError):
            to_unified(bad, "BNB-BTC", "2019-04-01T00:00:01.000Z")


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
