-- alerts: every alert sent, of every type. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`alerts` (
  `alert_id` string COMMENT 'unique per alert; the DynamoDB key',
  `alert_type` string COMMENT 'whale, volume_anomaly or spread',
  `symbol` string COMMENT 'BASE-QUOTE',
  `exchange` string COMMENT 'the exchange (for spreads: the high one)',
  `alert_time` timestamp COMMENT 'when it happened: the trade time or the window end',
  `detected_at` timestamp COMMENT 'when the job raised it',
  `headline` string COMMENT 'one line for people',
  `details` string COMMENT 'the alert record as JSON'
)
PARTITIONED BY (day(alert_time), `alert_type`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/alerts/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
