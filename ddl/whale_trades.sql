-- whale_trades: trades above the whale threshold. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`whale_trades` (
  `alert_id` string COMMENT 'whale:{event_id}',
  `event_id` string COMMENT 'the trade',
  `exchange` string COMMENT 'binance or coinbase',
  `symbol` string COMMENT 'BASE-QUOTE',
  `base_asset` string COMMENT 'BASE of the symbol',
  `quote_asset` string COMMENT 'QUOTE of the symbol',
  `trade_id` string COMMENT 'trade id on the exchange',
  `price` double COMMENT 'price in quote currency',
  `quantity` double COMMENT 'size in base currency',
  `quote_volume` double COMMENT 'notional in quote currency',
  `side` string COMMENT 'side of the taker (the aggressor)',
  `trade_time` timestamp COMMENT 'trade time (UTC)',
  `threshold` double COMMENT 'the whale threshold in quote currency',
  `threshold_multiple` double COMMENT 'quote_volume / threshold',
  `detected_at` timestamp COMMENT 'when the job raised it'
)
PARTITIONED BY (day(trade_time), `symbol`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/whale_trades/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
