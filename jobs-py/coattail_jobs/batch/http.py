"""One GET over HTTP for the REST clients of historical-loader (binance_rest.py, coinbase_rest.py)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message

USER_AGENT = "coattail-historical-loader"


def http_get(url: str, headers: Mapping[str, str], timeout_s: float) -> tuple[int | None, Message | None, bytes]:
    """(status, headers, body); status None with the error's text as the body when no answer came."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.headers, response.read()
    except urllib.error.HTTPError as err:  # a status the exchange sent (before URLError: it is one)
        with err:
            return err.code, err.headers, err.read()
    except (OSError, http.client.HTTPException) as err:  # refused, reset, timed out, cut short
        return None, None, str(err).encode()


def retry_after_s(headers: Message | None) -> float | None:
    """The ``Retry-After`` seconds of an answer; None when absent or not a number."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
