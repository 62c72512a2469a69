"""historical-loader's Coinbase REST client against the fake exchange (fake_coinbase.py, whose trades and range
its module doc works out): the search for the range's end by trade id, the pages walking older by cursor,
429 and 5xx, a refusal, the pacing, and the mapping of a Coinbase trade to the unified trade. No Spark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coattail_jobs.batch.binance_rest import LoaderError
from coattail_jobs.batch.coinbase_rest import CoinbaseRest, normalize_time, to_unified, trade_pages
from coattail_jobs.batch.common import epoch_micros

from .fake_binance import FakeTime
from .fake_coinbase import END, START, FakeCoinbase, Fault, running_exchange

TRADES_PATH = "/products/BTC-USD/trades"


@pytest.fixture
def exchange() -> Iterator[tuple[FakeCoinbase, str]]:
    yield from running_exchange()


def client(url: str, clock: FakeTime, **kwargs: float) -> CoinbaseRest:
    settings: dict[str, float] = {"min_interval_s": 0.0, **kwargs}
    return CoinbaseRest(base_url=url, clock=clock.time, sleep=clock.sleep, jitter=lambda: 0.5, **settings)  # type: ignore[arg-type]


def test_the_range_is_found_by_trade_id_and_paged_older_by_cursor(exchange: tuple[FakeCoinbase, str]) -> None:
    state, url = exchange
    pages = list(trade_pages(client(url, FakeTime()), "BTC-USD", epoch_micros(START), epoch_micros(END)))

    ids = [t["trade_id"] for page, _ in pages for t in page]
    assert ids == list(range(2600, 600, -1))  # ids 601..2600, newest first (see fake_coinbase.py)
    page_requests = [p for _, p in state.requests if p.get("limit") == "1000"]
    assert page_requests == [
        {"limit": "1000", "after": "2601"},
        {"limit": "1000", "after": "1601"},  # the first page's CB-AFTER
        {"limit": "1000", "after": "601"},
    ]
    probes = [p for _, p in state.requests if p.get("limit") == "1"]
    assert probes[0] == {"limit": "1"}  # the newest trade first, then a binary search over 5000 ids
    assert 12 <= len(probes) - 1 <= 14  # ceil(log2(5000)) = 13, give or take the search's last step
    assert {path for path, _ in state.requests} == {TRADES_PATH}


def test_429_with_and_without_retry_after_and_5xx_are_waited_out(exchange: tuple[FakeCoinbase, str]) -> None:
    state, url = exchange
    state.faults = [
        Fault(429, {"Retry-After": "2"}, '{"message":"Public rate limit exceeded"}'),
        Fault(429, {}, '{"message":"Public rate limit exceeded"}'),
        Fault(503, {}, "Service Unavailable"),
    ]
    clock = FakeTime()
    rest = client(url, clock)
    page, cursor = rest.trades("BTC-USD", None, 1000)
    assert (len(page), page[0]["trade_id"], cursor) == (1000, 5000, 4001)
    # Retry-After 2; then backoff 0.5 (jitter) x 0.5 s x 2^1 = 0.5 and x 2^2 = 1.0 (attempts 2 and 3).
    assert clock.sleeps == [2.0, 0.5, 1.0]
    assert (rest.stats.requests, rest.stats.rate_limited, rest.stats.retried_errors) == (4, 2, 1)


def test_requests_keep_100_ms_apart(exchange: tuple[FakeCoinbase, str]) -> None:
    _, url = exchange
    clock = FakeTime()
    rest = client(url, clock, min_interval_s=0.1)
    for _ in range(3):
        rest.trades("BTC-USD", None, 1)
    assert clock.sleeps == [0.1, 0.1]  # the fake clock stands still between requests


def test_an_unknown_product_or_a_bad_request_stops_with_one_line(exchange: tuple[FakeCoinbase, str]) -> None:
    _, url = exchange
    with pytest.raises(LoaderError, match=r"^Coinbase refused GET /products/XRP-USD/trades: HTTP 404 NotFound$"):
        client(url, FakeTime()).trades("XRP-USD", None, 1)
    with pytest.raises(LoaderError, match="failed 2 times, the last with HTTP 502"):
        state_fault = client(url, FakeTime(), max_attempts=2)
        exchange[0].faults = [Fault(502), Fault(502)]
        state_fault.trades("BTC-USD", None, 1)


def test_a_cb_after_that_does_not_move_below_the_cursor_stops_the_load(exchange: tuple[FakeCoinbase, str]) -> None:
    state, url = exchange
    state.repeat_cursor = True  # CB-AFTER repeats the after asked with
    pages = trade_pages(client(url, FakeTime()), "BTC-USD", epoch_micros(START), epoch_micros(END))
    # The first page (after=2601: ids 2600..1601, see fake_coinbase.py) comes; its CB-AFTER is 2601 again.
    page, _ = next(pages)
    assert [t["trade_id"] for t in page] == list(range(2600, 1600, -1))
    with pytest.raises(
        LoaderError, match=r"^Coinbase's CB-AFTER 2601 for GET /products/BTC-USD/trades\?after=2601 is not"
    ):
        next(pages)
    assert [p for _, p in state.requests if p.get("limit") == "1000"] == [{"limit": "1000", "after": "2601"}]


def test_normalization_matches_the_producer() -> None:
    raw = {"time": "2014-11-07T22:19:28.578544Z", "trade_id": 74, "price": "10.00000000", "size": "0.01000000"}
    assert to_unified({**raw, "side": "buy"}, "BTC-USD", "2014-11-07T22:19:29.000Z") == {
        "schema_version": 1,
        "event_id": "coinbase:BTC-USD:74",
        "exchange": "coinbase",
        "symbol": "BTC-USD",
        "trade_id": "74",
        "price": 10.0,
        "quantity": 0.01,
        "quote_volume": 0.1,  # 10 x 0.01 in decimal; 0.1 as a double
        "side": "sell",  # the maker bought: the taker sold
        "timestamp": "2014-11-07T22:19:28.578544Z",
        "ingested_at": "2014-11-07T22:19:29.000Z",
    }
    assert to_unified({**raw, "side": "sell"}, "BTC-USD", "x")["side"] == "buy"
    # src/core/time.ts normalizeIso: up to 3 digits padded to 3, more cut or padded to 6.
    assert [
        normalize_time(t) for t in ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.1234Z")
    ] == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:00.500Z",
        "2024-01-01T00:00:00.123400Z",
    ]
    assert normalize_time("2024-01-01T00:00:00.1234567Z") == "2024-01-01T00:00:00.123456Z"
    for bad in (
        {**raw, "side": "x"},
        {**raw, "price": "-1"},
        {**raw, "time": "2024-02-30T00:00:00Z"},
        {**raw, "size": 1},
    ):
        with pytest.raises(ValueError):
            to_unified({"side": "buy", **bad}, "BTC-USD", "x")
