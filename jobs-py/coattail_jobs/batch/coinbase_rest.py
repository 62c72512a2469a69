"""Coinbase's REST API for historical-loader: the trades of one product and time range, page by page.

Coinbase Exchange's REST facts (https://docs.cdp.coinbase.com/exchange/rest-api/pagination and the
``Get product trades`` reference):
- ``GET /products/{product_id}/trades?limit=1000`` (public, no key) answers the newest trades first. It is
  paged by trade-id cursor: ``after=<id>`` asks for the page of older trades (ids below it), ``before=<id>``
  for newer ones; each answer names the next cursors in its ``CB-AFTER`` (the oldest id of the page) and
  ``CB-BEFORE`` headers. There is no time parameter.
- So a time range is found by trade id: ``after=<m + 1>&limit=1`` answers the trade with the largest id up to
  ``m`` (one trade, its time); a binary search over ids finds the first trade at or after the range's end
  (about 30 requests for ids in the hundreds of millions). From there, pages of 1000 walk older with
  ``after=<CB-AFTER>`` until a trade before the range's start.
- Public endpoints allow about 10 requests a second per IP: the client keeps at least 100 ms between
  requests. 429: wait ``Retry-After`` when given, else back off; 5xx and broken connections: retried with
  exponential backoff and full jitter; any other status (404: no such product) stops the load with one line.
- ``side`` is the MAKER order's side (as in the WebSocket's ``match``): the taker's is the opposite.

Trades are normalized exactly as the streaming producer does (src/exchanges/coinbase/mapper.ts):
``event_id = coinbase:{PRODUCT}:{trade_id}``, the taker side, ``quote_volume`` the decimal product of the price
and size strings rounded once, ``timestamp`` Coinbase's time with 3 fraction digits (fewer padded) or 6 (more
cut), ``ingested_at`` when the page arrived.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

from .binance_rest import LoaderError, RestStats, trades_array
from .common import epoch_micros
from .http import http_get, retry_after_s

log = logging.getLogger("coattail_jobs.batch.historical_loader")

COINBASE_REST_URL = "https://api.exchange.coinbase.com"
PAGE_LIMIT = 1000
MIN_INTERVAL_S = 0.1
"""10 requests a second: Coinbase's public rate limit per IP."""

_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$")


@dataclass
class CoinbaseRest:
    """GET requests to Coinbase's public REST API, paced and retried (see the module doc)."""

    base_url: str = COINBASE_REST_URL
    max_attempts: int = 8
    timeout_s: float = 30.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    min_interval_s: float = MIN_INTERVAL_S
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    stats: RestStats = field(default_factory=RestStats)
    _last: float | None = None

    def trades(self, product: str, after: int | None, limit: int) -> tuple[list[dict[str, object]], int | None]:
        """One page (newest first) of trades with ids below ``after`` (the newest without it), and its CB-AFTER."""
        params: dict[str, str | int] = {"limit": limit, **({"after": after} if after is not None else {})}
        path = f"/products/{quote(product, safe='')}/trades"
        url = f"{self.base_url.rstrip('/')}{path}?{urlencode(params)}"
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            self.stats.requests += 1
            status, headers, body = http_get(url, {}, self.timeout_s)
            if status == 200:
                cursor = headers.get("CB-AFTER") if headers is not None else None
                return trades_array(path, body), int(cursor) if cursor and cursor.strip().isdigit() else None
            if status == 429:
                self.stats.rate_limited += 1
                given = retry_after_s(headers)
                wait = given if given is not None else self._backoff(attempt)
                log.warning("Coinbase rate-limited GET %s (429): waiting %.2f s", path, wait)
                self._pause(wait)
                last = "HTTP 429"
                continue
            if status is None or status >= 500:
                self.stats.retried_errors += 1
                last = body.decode("utf-8", "replace") if status is None else f"HTTP {status}"
                if attempt < self.max_attempts:
                    delay = self._backoff(attempt)
                    log.warning("GET %s failed (%s): retrying in %.2f s (attempt %d)", path, last, delay, attempt)
                    self._pause(delay)
                continue
            raise LoaderError(f"Coinbase refused GET {path}: HTTP {status} {_coinbase_error(body)}")
        raise LoaderError(f"GET {path} failed {self.max_attempts} times, the last with {last}: try again later")

    def _backoff(self, attempt: int) -> float:
        return float(self.jitter() * min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))

    def _pace(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.min_interval_s:
            self._pause(self.min_interval_s - (now - self._last))
        self._last = self.clock()

    def _pause(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self.sleep(seconds)


def _coinbase_error(body: bytes) -> str:
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:200]


# ---------------------------------------------------------------- trades


def normalize_time(text: object) -> str | None:
    """Coinbase's time as the producer writes it (src/core/time.ts normalizeIso); None when it is not one."""
    match = _ISO.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    fraction = match.group(2) or ""
    digits = fraction.ljust(3, "0") if len(fraction) <= 3 else fraction[:6].ljust(6, "0")
    out = f"{match.group(1)}.{digits}Z"
    try:
        datetime.fromisoformat(out.replace("Z", "+00:00"))
    except ValueError:
        return None
    return out


def time_us(trade: Mapping[str, object]) -> int | None:
    """The trade's time in epoch microseconds; None when it is not an ISO time."""
    text = normalize_time(trade.get("time"))
    return None if text is None else epoch_micros(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC))


def _id(trade: Mapping[str, object]) -> int:
    value = trade.get("trade_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoaderError(f"Coinbase sent a trade whose trade_id is not an integer: {dict(trade)}")
    return value


def end_cursor(rest: CoinbaseRest, product: str, end_us: int) -> int | None:
    """An ``after`` cursor whose page starts at the newest trade before ``end_us``; None when there are no trades.

    The newest trade's id N bounds the search; then the smallest id whose trade is at or after the end."""
    newest, _ = rest.trades(product, None, 1)
    if not newest:
        return None
    top = _id(newest[0])
    top_us = time_us(newest[0])
    if top_us is not None and top_us < end_us:
        return top + 1
    lo, hi = 0, top  # the trade with id hi is at or after the end
    while lo < hi:
        mid = (lo + hi) // 2
        page, _ = rest.trades(product, mid + 1, 1)  # the trade with the largest id up to mid
        probe_us = time_us(page[0]) if page else None
        if page and probe_us is not None and probe_us >= end_us:
            hi = _id(page[0])
        else:
            lo = mid + 1
    return hi


def trade_pages(
    rest: CoinbaseRest, product: str, start_us: int, end_us: int, now: Callable[[], float] = time.time
) -> Iterator[tuple[list[dict[str, object]], int]]:
    """Pages of raw trades in ``[start_us, end_us)``, newest first, each with the epoch ms it arrived at.

    A trade whose time is not ISO is passed on (``to_unified`` rejects it, the load counts it) when it lies
    inside the range by id, between trades that are."""
    cursor = end_cursor(rest, product, end_us)
    while cursor is not None:
        page, next_cursor = rest.trades(product, cursor, PAGE_LIMIT)
        received_ms = int(now() * 1000)
        in_range: list[dict[str, object]] = []
        before_start = False
        for trade in page:  # newest first
            moment = time_us(trade)
            if moment is not None and moment < start_us:
                before_start = True
            if before_start:
                continue
            if moment is None or moment < end_us:
                in_range.append(trade)
        yield in_range, received_ms
        if not page or before_start:
            return
        older = next_cursor if next_cursor is not None else min(_id(t) for t in page)
        # A server that answers the same cursor (or a newer one) again would be followed forever.
        if older >= cursor:
            raise LoaderError(
                f"Coinbase's CB-AFTER {older} for GET /products/{product}/trades?after={cursor} is not below "
                f"the cursor: its paging does not move on, so the trades older than id {cursor} cannot be fetched"
            )
        cursor = older
        if cursor <= 1:
            return


def to_unified(trade: Mapping[str, object], symbol: str, ingested_at: str) -> dict[str, object]:
    """A Coinbase REST trade -> the unified trade; ValueError when it is not a trade."""
    trade_id, price_text, size_text, side = (
        trade.get("trade_id"),
        trade.get("price"),
        trade.get("size"),
        trade.get("side"),
    )
    if isinstance(trade_id, bool) or not isinstance(trade_id, int) or trade_id < 0:
        raise ValueError("trade_id is not a non-negative integer")
    if not isinstance(price_text, str) or not isinstance(size_text, str):
        raise ValueError("price or size is not a decimal string")
    if not _DECIMAL.match(price_text) or not _DECIMAL.match(size_text):
        raise ValueError("price or size is not a decimal string")
    if side not in ("buy", "sell"):
        raise ValueError("side is neither buy nor sell")
    timestamp = normalize_time(trade.get("time"))
    if timestamp is None:
        raise ValueError("time is not ISO-8601 UTC")
    price, size = Decimal(price_text), Decimal(size_text)
    if price <= 0 or size <= 0:
        raise ValueError("price and size must be positive")
    return {
        "schema_version": 1,
        "event_id": f"coinbase:{symbol}:{trade_id}",
        "exchange": "coinbase",
        "symbol": symbol,
        "trade_id": str(trade_id),
        "price": float(price_text),
        "quantity": float(size_text),
        "quote_volume": float(price * size),  # the exact decimal product, rounded once
        # `side` is the maker's: a resting sell order filled means the taker bought.
        "side": "buy" if side == "sell" else "sell",
        "timestamp": timestamp,
        "ingested_at": ingested_at,
    }
