-- spreads: 30-second cross-exchange VWAP spreads. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`spreads` (
  `window_start` timestamp COMMENT 'start of the 30-second window',
  `window_end` timestamp COMMENT 'end of the window (exclusive)',
  `symbol` string COMMENT 'BASE-QUOTE',
  `high_exchange` string COMMENT 'the exchange with the higher VWAP',
  `low_exchange` string COMMENT 'the exchange with the lower VWAP',
  `high_vwap` double COMMENT 'the higher VWAP',
  `low_vwap` double COMMENT 'the lower VWAP',
  `spread_pct` double COMMENT '|a - b| / ((a + b) / 2) x 100',
  `binance_trades` bigint COMMENT 'trades on Binance in the window',
  `coinbase_trades` bigint COMMENT 'trades on Coinbase in the window',
  `is_alert` boolean COMMENT 'spread_pct above the threshold',
  `threshold_pct` double COMMENT 'the alert threshold in percent'
)
PARTITIONED BY (day(window_start), `symbol`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/spreads/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
