-- raw_trades: every valid trade, as received. Rendered from coattail_jobs/schemas.py; do not edit by hand.
CREATE TABLE IF NOT EXISTS `crypto_pulse`.`raw_trades` (
  `event_id` string COMMENT '{exchange}:{symbol}:{trade_id}: unique per trade',
  `exchange` string COMMENT 'binance or coinbase',
  `symbol` string COMMENT 'BASE-QUOTE',
  `trade_id` string COMMENT 'trade id on the exchange',
  `price` double COMMENT 'price in quote currency',
  `quantity` double COMMENT 'size in base currency',
  `quote_volume` double COMMENT 'price x quantity',
  `side` string COMMENT 'side of the taker (the aggressor): buy or sell',
  `trade_time` timestamp COMMENT 'trade time (UTC), microseconds kept',
  `ingested_at` timestamp COMMENT 'when the producer received it',
  `schema_version` int COMMENT 'unified trade schema version',
  `kinesis_sequence_number` string COMMENT 'where the record sat in Kinesis',
  `archived_at` timestamp COMMENT 'when raw-archiver wrote the row'
)
PARTITIONED BY (day(trade_time), `symbol`)
LOCATION 's3://${bucket}/warehouse/crypto_pulse/raw_trades/'
TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')
