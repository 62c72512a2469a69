"""The entry point's option handling (the jobs themselves are tested in their own files)."""

from __future__ import annotations

import pytest

from coattail_jobs.__main__ import UsageError, main, parse_settings
from coattail_jobs.config import JobConfig


def test_settings_override_fields_with_their_types() -> None:
    config = parse_settings(
        ["whale_threshold=250000", "anomaly_min_periods=5", "symbols=BTC-USDT, ETH-USDT", "watermark=30 seconds"],
        JobConfig(job="whale-detector"),
    )
    assert config.whale_threshold == 250_000.0
    assert config.anomaly_min_periods == 5
    assert config.symbols == ("BTC-USDT", "ETH-USDT")
    assert config.watermark == "30 seconds"


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("nonsense=1", "--set nonsense=1: expected name=value with name one of"),
        ("whale_threshold", "--set whale_threshold: expected name=value"),
        ("anomaly_min_periods=ten", "--set anomaly_min_periods=ten: 'ten' is not a valid int"),
    ],
)
def test_bad_settings_say_what_is_wrong(pair: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_settings([pair], JobConfig(job="x"))
    assert str(err.value).startswith(message)


def test_a_bad_setting_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whale-detector", "--set", "spread_threshold_pct=wide"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["coattail_jobs: --set spread_threshold_pct=wide: 'wide' is not a valid float"]
