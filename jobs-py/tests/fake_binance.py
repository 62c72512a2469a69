"""A fake Binance for historical-loader's tests: a local HTTP server speaking Binance's REST format.

The fake exchange holds BTCUSDT trades with ids 1000 + k, k = 0..5399, one every 2 seconds from
2024-01-01T22:00:00Z (so the last, k = 5399, is at 2024-01-02T00:59:58Z). The range loaded is
[2024-01-01T23:30:01Z, 2024-01-02T00:20:00Z):
- the first trade at or after 23:30:01 is at 23:30:02: k = (5400 + 2) / 2 = 2701, id 3701;
- the last before 00:20:00 is at 00:19:58: k = (8400 - 2) / 2 = 4199, id 5199;
- 5199 - 3701 + 1 = 1499 trades: 899 on Jan 1 (k 2701..3599), 600 on Jan 2 (k 3600..4199);
- pages of 1000 by id: fromId 3701 (ids 3701..4700, the last at 00:03:20, inside), then fromId 4701 (ids
  4701..5700, the last at 00:36:40, past the end: the load stops).

Each trade also has a microsecond time, ``time_us`` = its ms time x 1000 + (7 x k mod 1000): a request with
``X-MBX-TIME-UNIT: MICROSECOND`` gets that as ``time``, as Binance does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from coattail_jobs.batch.binance_rest import BinanceRest

FIRST_TRADE = datetime(2024, 1, 1, 22, tzinfo=UTC)
START = datetime(2024, 1, 1, 23, 30, 1, tzinfo=UTC)
END = datetime(2024, 1, 2, 0, 20, tzinfo=UTC)
T0 = 1_700_000_030.0
"""The fake clock's start: 30 s into a minute (1_699_999_980 is a minute boundary), 2023-11-14T22:13:50Z."""


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


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

    def answer(
        self, path: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        self.requests.append((path, params))
        micros = (headers or {}).get("x-mbx-time-unit", "").upper() == "MICROSECOND"
        weight = {"/api/v3/historicalTrades": 25, "/api/v3/aggTrades": 4}.get(path, 1)
        self.used += weight
        if self.faults.get(path):
            fault = self.faults[path].pop(0)
            return fault.status, {"X-MBX-USED-WEIGHT-1M": str(self.used), **fault.headers}, fault.body
        headers = {"X-MBX-USED-WEIGHT-1M": str(self.weight_overrides.pop(0) if self.weight_overrides else self.used)}
        if path == "/api/v3/historicalTrades":
            start = int(params["fromId"])
            page = [t for t in self.trades if t["id"] >= start][: int(params["limit"])]
            return 200, headers, json.dumps([_as_sent(t, micros) for t in page])
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


def _as_sent(trade: dict[str, Any], micros: bool) -> dict[str, Any]:
    sent = {k: v for k, v in trade.items() if k != "time_us"}
    if micros and isinstance(trade["time"], int):
        sent["time"] = trade["time_us"]
    return sent


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
                "time_us": (ms(FIRST_TRADE) + 2000 * k) * 1000 + 7 * k % 1000,
                "isBuyerMaker": k % 2 == 0,
                "isBestMatch": True,
            }
        )
    return trades


def running_exchange() -> Iterator[tuple[FakeBinance, str]]:
    """The fake exchange, served on a free local port while the generator runs: (its state, its URL)."""
    state = FakeBinance(binance_trades())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            sent = {k.lower(): v for k, v in self.headers.items()}
            status, headers, body = state.answer(url.path, dict(parse_qsl(url.query)), sent)
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
