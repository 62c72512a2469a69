"""A fake Coinbase Exchange for historical-loader's tests: a local HTTP server answering
``GET /products/{product_id}/trades`` as Coinbase does (newest first, ``after``/``before`` trade-id cursors,
``CB-AFTER``/``CB-BEFORE`` headers, limit at most 1000, ``side`` the maker's).

The fake holds BTC-USD trades with ids 1 + k, k = 0..4999, one every 3 seconds from 2024-01-01T22:00:00Z, each
with a microsecond fraction (7919 x k mod 10^6), except every 50th (k mod 50 = 0), sent with no fraction
at all, and every 50th + 25, sent with 3 digits. The range loaded is [2024-01-01T22:30:00Z, 2024-01-02T00:10:00Z):
- 22:30:00 is k = 1800 / 3 = 600 (a k mod 50 = 0 trade: exactly at the start, so inside);
- 00:10:00 is k = 7800 / 3 = 2600 (exactly at the end: outside); so k = 600..2599, ids 601..2600: 2000
  trades, 1800 on Jan 1 (k 600..2399) and 200 on Jan 2 (k 2400..2599);
- the pages of 1000, after the search for the end: after=2601 (ids 2600..1601), after=1601 (ids 1600..601, the
  oldest exactly at the start), after=601 (ids 600..1: k = 599 is before the start, the load stops).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIRST_TRADE = datetime(2024, 1, 1, 22, tzinfo=UTC)
START = datetime(2024, 1, 1, 22, 30, tzinfo=UTC)
END = datetime(2024, 1, 2, 0, 10, tzinfo=UTC)
TRADES = 5000
_PATH = re.compile(r"^/products/([A-Z0-9]+-[A-Z0-9]+)/trades$")


def fraction(k: int) -> str:
    """The fraction of trade k's time as Coinbase sends it (see the module doc)."""
    if k % 50 == 0:
        return ""
    if k % 50 == 25:
        return f".{7919 * k % 1000:03d}"
    return f".{7919 * k % 1_000_000:06d}"


def coinbase_trades() -> list[dict[str, Any]]:
    trades = []
    for k in range(TRADES):
        moment = FIRST_TRADE + timedelta(seconds=3 * k)
        price, size = f"{42000 + k % 11}.{k % 100:02d}", f"0.{k % 17 + 1:04d}"
        if k == 600:
            price, size = "0.1", "0.3"  # 0.03 in decimal, 0.030000000000000002 in floats
        trades.append(
            {
                "time": f"{moment:%Y-%m-%dT%H:%M:%S}{fraction(k)}Z",
                "trade_id": 1 + k,
                "price": price,
                "size": size,
                "side": "sell" if k % 3 == 0 else "buy",
            }
        )
    return trades


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class FakeCoinbase:
    trades: list[dict[str, Any]]
    products: tuple[str, ...] = ("BTC-USD",)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    """Answers for the next requests, in order, before any is served."""
    repeat_cursor: bool = False
    """CB-AFTER names the ``after`` asked with (when there is one): a server whose paging does not move on."""

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        self.requests.append((path, params))
        if self.faults:
            fault = self.faults.pop(0)
            return fault.status, fault.headers, fault.body
        match = _PATH.match(path)
        if match is None or match.group(1) not in self.products:
            return 404, {}, '{"message":"NotFound"}'
        limit = int(params.get("limit", "1000"))
        if not 1 <= limit <= 1000:
            return 400, {}, '{"message":"Invalid limit"}'
        newest_first = sorted(self.trades, key=lambda t: -t["trade_id"])
        if "after" in params:
            newest_first = [t for t in newest_first if t["trade_id"] < int(params["after"])]
        if "before" in params:
            newest_first = [t for t in newest_first if t["trade_id"] > int(params["before"])][-limit:]
        page = newest_first[:limit]
        headers = {"CB-BEFORE": str(page[0]["trade_id"]), "CB-AFTER": str(page[-1]["trade_id"])} if page else {}
        if self.repeat_cursor and page and "after" in params:
            headers["CB-AFTER"] = params["after"]
        return 200, headers, json.dumps(page)


def running_exchange() -> Iterator[tuple[FakeCoinbase, str]]:
    """The fake exchange, served on a free local port while the generator runs: (its state, its URL)."""
    state = FakeCoinbase(coinbase_trades())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, headers, body = state.answer(url.path, dict(parse_qsl(url.query)))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the tests assert the request log instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
