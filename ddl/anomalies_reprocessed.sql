-- anomalies_reprocessed: volume anomalies recomputed over a time-travel view of raw_trades. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`anomalies_reprocessed` (
  `alert_id` string COMMENT 'volume_anomaly:{exchange}:{symbol}:{window_start}',
  `window_start` timestamp COMMENT 'the anomalous window',
  `window_end` timestamp COMMENT 'its end',
  `symbol` string COMMENT 'BASE-QUOTE',
  `exchange` string COMMENT 'binance or coinbase',
  `total_quote_volume` double COMMENT 'quote volume in the window',
  `trade_count` bigint COMMENT 'trades in the window',
  `baseline_mean` double COMMENT 'mean quote volume of the baseline windows',
  `baseline_std` double COMMENT 'sample standard deviation (n-1) of the baseline',
  `baseline_windows` int COMMENT 'windows in the preceding 60 minutes',
  `z_score` double COMMENT '(x - mean) / std',
  `threshold` double COMMENT 'z above which the window is an anomaly',
  `detected_at` timestamp COMMENT 'when the job raised it',
  `as_of` string COMMENT 'the snapshot id or timestamp raw_trades was read at',
  `reprocessed_at` timestamp COMMENT 'when the reprocessing ran'
)
PARTITIONED BY (day(window_start), `symbol`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/anomalies_reprocessed/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
