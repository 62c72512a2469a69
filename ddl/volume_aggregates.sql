-- volume_aggregates: 60-second windows per symbol and exchange. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`volume_aggregates` (
  `window_start` timestamp COMMENT 'start of the 60-second window',
  `window_end` timestamp COMMENT 'end of the window (exclusive)',
  `symbol` string COMMENT 'BASE-QUOTE',
  `exchange` string COMMENT 'binance or coinbase',
  `trade_count` bigint COMMENT 'trades in the window',
  `total_volume` double COMMENT 'sum of quantity',
  `total_quote_volume` double COMMENT 'sum of quote_volume',
  `vwap` double COMMENT 'total_quote_volume / total_volume',
  `min_price` double COMMENT 'lowest price',
  `max_price` double COMMENT 'highest price'
)
PARTITIONED BY (day(window_start), `symbol`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/volume_aggregates/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
