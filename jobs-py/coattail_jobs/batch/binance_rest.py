"""Binance's REST API for historical-loader: the trades of one symbol, page by page, within the weight limits.

Binance's REST facts (https://developers.binance.com/docs/binance-spot-api-docs/rest-api):
- ``GET /api/v3/historicalTrades?symbol=&fromId=&limit=1000`` (weight 25, no API key) pages through the
  individual trades by id: ids are consecutive per symbol, so the next page starts at the last id + 1. It
  takes no time parameter.
- ``GET /api/v3/aggTrades?symbol=&startTime=&endTime=&limit=`` (weight 4) takes times, and each aggregate
  names its first trade id (``f``). So the first trade at or after the range's start is ``f`` of the first
  aggregate from ``startTime``: one cheap request, where a binary search over ids with historicalTrades
  would cost ~30 requests of weight 25. A start/end window must be shorter than an hour, so an empty hour
  moves the probe to the next one.
- ``X-MBX-TIME-UNIT: MICROSECOND`` on a request makes the times of its answer microseconds (``--binance-time-unit
  us``, as ingest's WebSocket ``timeUnit=MICROSECOND``): a loaded trade then has the precision a live one has.
  Time parameters (``startTime``) are taken in either unit; the loader sends milliseconds.
- Every answer carries ``X-MBX-USED-WEIGHT-1M``: the weight this IP used in the current minute (all of its
  clients). The limit is 6000 a minute; the loader allows itself ``--max-weight`` (default 4800, leaving
  room for others) and sleeps to the next minute before a request that would exceed it.
- 429: too many requests, back off for ``Retry-After`` seconds. 418: the IP is banned for ``Retry-After``
  seconds (after ignoring 429s); the loader waits that out when it is short (``max_ban_wait_s``), else
  stops with one line. 5xx and broken connections: retried with exponential backoff and full jitter.

Trades are normalized exactly as the streaming producer does (src/exchanges/binance/mapper.ts):
``event_id = binance:{SYMBOL}:{id}``, the taker side is ``sell`` when ``isBuyerMaker``, ``quote_volume`` is the
decimal product of the price and quantity strings rounded once to a double, ``timestamp`` the trade time as
ISO-8601 with Z (3 fraction digits for ms, 6 for µs), ``ingested_at`` when the page arrived.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.message import Message
from urllib.parse import urlencode

from .common import iso_from_epoch_micros, iso_from_epoch_millis
from .http import http_get, retry_after_s

# The client of historical-loader: its log lines keep that job's logger name.
log = logging.getLogger("coattail_jobs.batch.historical_loader")

BINANCE_REST_URL = "https://api.binance.com"
HISTORICAL_TRADES = "/api/v3/historicalTrades"
HISTORICAL_TRADES_WEIGHT = 25
AGG_TRADES = "/api/v3/aggTrades"
AGG_TRADES_WEIGHT = 4
PAGE_LIMIT = 1000
WEIGHT_LIMIT = 6000
"""Binance's REQUEST_WEIGHT limit per IP and minute (``exchangeInfo`` -> ``rateLimits``)."""
DEFAULT_MAX_WEIGHT = 4800
USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
TIME_UNIT_HEADER = "X-MBX-TIME-UNIT"
TIME_UNITS = ("ms", "us")
PROBE_MS = 3_600_000 - 1
"""aggTrades refuses a startTime..endTime window of an hour or more; both ends are inclusive."""

_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


class LoaderError(RuntimeError):
    """Binance refused or kept failing: the run stops with one line, exit status 1."""


def trades_array(path: str, body: bytes) -> list[dict[str, object]]:
    """A 200 answer's body as the JSON array of trade objects both exchanges send, or a LoaderError."""
    try:
        data = json.loads(body)
    except ValueError:
        raise LoaderError(f"GET {path} answered 200 with no JSON: {body[:120]!r}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise LoaderError(f"GET {path} answered 200 with {type(data).__name__}, not an array of trades")
    return data


# ---------------------------------------------------------------- REST client


@dataclass
class RestStats:
    requests: int = 0
    weight_waits: int = 0
    rate_limited: int = 0
    banned: int = 0
    retried_errors: int = 0
    waited_s: float = 0.0
    weight_spent: int = 0
    """The request weight of every request sent (Binance; 0 for an exchange without weights)."""
    max_used_weight: int = 0
    """The highest ``X-MBX-USED-WEIGHT-1M`` an answer gave: this IP's busiest minute seen (all its clients)."""


@dataclass
class BinanceRest:
    """GET requests to Binance's REST API within the weight budget, with retries (see the module doc)."""

    base_url: str = BINANCE_REST_URL
    max_weight: int = DEFAULT_MAX_WEIGHT
    time_unit: str = "ms"
    """``us``: ask for microsecond times (``X-MBX-TIME-UNIT: MICROSECOND``)."""
    max_attempts: int = 8
    max_ban_wait_s: float = 600.0
    timeout_s: float = 30.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    stats: RestStats = field(default_factory=RestStats)
    _used: int = 0
    _minute: int | None = None

    def get(self, path: str, params: Mapping[str, str | int], weight: int) -> list[dict[str, object]]:
        """The JSON array Binance answers; LoaderError when it refuses or keeps failing."""
        url = f"{self.base_url.rstrip('/')}{path}?{urlencode(params)}"
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            self._reserve(weight)
            self.stats.requests += 1
            self.stats.weight_spent += weight
            status, headers, body = self._send(url)
            if headers is not None:
                self._note_weight(headers)
            if status == 200:
                return trades_array(path, body)
            retry_after = retry_after_s(headers)
            if status == 429:
                self.stats.rate_limited += 1
                wait = retry_after if retry_after is not None else self._to_next_minute()
                log.warning("Binance rate-limited GET %s (429): waiting %.0f s as Retry-After asks", path, wait)
                self._pause(wait)
                last = "HTTP 429"
                continue
            if status == 418:
                self.stats.banned += 1
                if retry_after is None or retry_after > self.max_ban_wait_s:
                    raise LoaderError(
                        f"Binance has banned this IP (HTTP 418) for {_seconds(retry_after)}: another client on it "
                        "overran the weight limit; run the loader again after the ban"
                    )
                log.warning("Binance banned this IP (418) for %.0f s: waiting it out", retry_after)
                self._pause(retry_after)
                last = "HTTP 418"
                continue
            if status is None or status >= 500:
                self.stats.retried_errors += 1
                last = body.decode("utf-8", "replace") if status is None else f"HTTP {status}"
                if attempt < self.max_attempts:
                    delay = self.jitter() * min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
                    log.warning("GET %s failed (%s): retrying in %.2f s (attempt %d)", path, last, delay, attempt)
                    self._pause(delay)
                continue
            raise LoaderError(f"Binance refused GET {path}: HTTP {status} {_binance_error(body)}")
        raise LoaderError(f"GET {path} failed {self.max_attempts} times, the last with {last}: try again later")

    def _send(self, url: str) -> tuple[int | None, Message | None, bytes]:
        headers = {TIME_UNIT_HEADER: "MICROSECOND"} if self.time_unit == "us" else {}
        return http_get(url, headers, self.timeout_s)

    @property
    def used_weight(self) -> int:
        """The weight used in the current minute, as the last answer (or our own count) has it."""
        return self._used

    def _reserve(self, weight: int) -> None:
        """Waits for the next minute when this request would take the minute's weight past the budget."""
        minute = int(self.clock() // 60)
        if self._minute != minute:
            self._minute, self._used = minute, 0
        if self._used + weight > self.max_weight:
            self.stats.weight_waits += 1
            wait = self._to_next_minute()
            log.info("used weight %d of %d this minute: waiting %.1f s for the next", self._used, self.max_weight, wait)
            self._pause(wait)
            self._minute, self._used = int(self.clock() // 60), 0
        self._used += weight  # until the answer's header gives the exchange's own count

    def _note_weight(self, headers: Message) -> None:
        value = headers.get(USED_WEIGHT_HEADER)
        if value is not None and value.strip().isdigit():
            # The exchange's count covers every client on this IP: it wins over ours.
            self._minute, self._used = int(self.clock() // 60), int(value)
            self.stats.max_used_weight = max(self.stats.max_used_weight, self._used)

    def _to_next_minute(self) -> float:
        now = self.clock()
        # One second more: Binance's clock, not ours, starts its minute.
        return (int(now // 60) + 1) * 60 - now + 1.0

    def _pause(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self.sleep(seconds)


def _seconds(value: float | None) -> str:
    return "an unknown time" if value is None else f"{value:.0f} s"


def _binance_error(body: bytes) -> str:
    try:
        error = json.loads(body)
        return f"{error['code']}: {error['msg']}"
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:200]


# ---------------------------------------------------------------- trades


def exchange_symbol(symbol: str, listed_as: str | None = None) -> str:
    """Binance's name for ``symbol``: ``listed_as``, the name its exchangeInfo gives (``coattail backfill`` resolves
    it, as ingest does, and passes ``--exchange-symbol``). Without it, a guess: ``BTC-USDT`` -> ``BTCUSDT``, the
    dash dropped, which is wrong when another pair has the same letters (``ARB-USD`` -> ``ARBUSD`` is AR/BUSD)."""
    return listed_as or symbol.replace("-", "")


def first_trade_id(
    rest: BinanceRest, symbol: str, start_ms: int, end_ms: int, listed_as: str | None = None
) -> int | None:
    """The id of the first trade at or after ``start_ms`` and before ``end_ms``; None when there is none.
    ``listed_as``: Binance's name for the symbol (see ``exchange_symbol``)."""
    probe = start_ms
    while probe < end_ms:
        until = min(probe + PROBE_MS, end_ms - 1)
        params: dict[str, str | int] = {
            "symbol": exchange_symbol(symbol, listed_as),
            "startTime": probe,
            "endTime": until,
            "limit": 1,
        }
        page = rest.get(AGG_TRADES, params, AGG_TRADES_WEIGHT)
        if page:
            return _int(page[0], "f")
        probe = until + 1
    return None


def trade_pages(
    rest: BinanceRest,
    symbol: str,
    start_ms: int,
    end_ms: int,
    now: Callable[[], float] = time.time,
    listed_as: str | None = None,
) -> Iterator[tuple[list[dict[str, object]], int]]:
    """Pages of raw trades in ``[start_ms, end_ms)`` in id order, each with the epoch ms it arrived at.
    ``listed_as``: Binance's name for the symbol (see ``exchange_symbol``).

    A trade whose time is not an integer is passed on (``to_unified`` rejects it, and the load counts it)
    unless it follows a trade at or past the end: ids are in time order, so it lies between its neighbours.
    The trades' times are in the client's unit (``rest.time_unit``); the range is compared in that unit.
    """
    per_ms = 1000 if rest.time_unit == "us" else 1
    start_t, end_t = start_ms * per_ms, end_ms * per_ms
    cursor = first_trade_id(rest, symbol, start_ms, end_ms, listed_as)
    while cursor is not None:
        params: dict[str, str | int] = {
            "symbol": exchange_symbol(symbol, listed_as),
            "fromId": cursor,
            "limit": PAGE_LIMIT,
        }
        page = rest.get(HISTORICAL_TRADES, params, HISTORICAL_TRADES_WEIGHT)
        received_ms = int(now() * 1000)
        in_range: list[dict[str, object]] = []
        past_end = False
        for trade in page:
            time_ms = _time_ms(trade)
            if time_ms is not None and time_ms >= end_t:
                past_end = True
            if past_end:
                continue
            if time_ms is None or time_ms >= start_t:
                in_range.append(trade)
        yield in_range, received_ms
        # A short page is the newest trade; a trade at or past the end closes the range.
        if len(page) < PAGE_LIMIT or past_end:
            return
        cursor = _int(page[-1], "id") + 1


def _time_ms(trade: Mapping[str, object]) -> int | None:
    """The trade's time in epoch ms; None when it is not an integer (a trade to reject, not a reason to stop)."""
    value = trade.get("time")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _int(trade: Mapping[str, object], name: str) -> int:
    value = trade.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoaderError(f"Binance sent a trade whose {name} is not an integer: {dict(trade)}")
    return value


def to_unified(trade: Mapping[str, object], symbol: str, ingested_at: str, time_unit: str = "ms") -> dict[str, object]:
    """A historicalTrades item -> the unified trade; ValueError when it is not a trade.

    ``time_unit``: ``us`` when the answer's times are microseconds (``X-MBX-TIME-UNIT: MICROSECOND``)."""
    trade_id, price_text, qty_text = trade.get("id"), trade.get("price"), trade.get("qty")
    time_ms, buyer_is_maker = trade.get("time"), trade.get("isBuyerMaker")
    if isinstance(trade_id, bool) or not isinstance(trade_id, int) or trade_id < 0:
        raise ValueError("id is not a non-negative integer")
    if not isinstance(price_text, str) or not isinstance(qty_text, str):
        raise ValueError("price or qty is not a decimal string")
    if not _DECIMAL.match(price_text) or not _DECIMAL.match(qty_text):
        raise ValueError("price or qty is not a decimal string")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int) or time_ms < 0:
        raise ValueError(f"time is not epoch {'microseconds' if time_unit == 'us' else 'milliseconds'}")
    if not isinstance(buyer_is_maker, bool):
        raise ValueError("isBuyerMaker is not a boolean")
    try:
        price, quantity = Decimal(price_text), Decimal(qty_text)
    except InvalidOperation:
        raise ValueError("price or qty is not a decimal string") from None
    if price <= 0 or quantity <= 0:
        raise ValueError("price and qty must be positive")
    return {
        "schema_version": 1,
        "event_id": f"binance:{symbol}:{trade_id}",
        "exchange": "binance",
        "symbol": symbol,
        "trade_id": str(trade_id),
        "price": float(price_text),
        "quantity": float(qty_text),
        # The exact decimal product, rounded once (float() of a Decimal is correctly rounded), as the producer.
        "quote_volume": float(price * quantity),
        # The buyer was the maker, so the aggressor (taker) sold.
        "side": "sell" if buyer_is_maker else "buy",
        "timestamp": iso_from_epoch_micros(time_ms) if time_unit == "us" else iso_from_epoch_millis(time_ms),
        "ingested_at": ingested_at,
    }
