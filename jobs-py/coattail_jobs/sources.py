"""Where the jobs read trades from. Every source yields the same columns (schemas.RAW_KINESIS_RECORD):
``data`` (the record's text), ``partition_key``, ``sequence_number``, ``arrival_time``.

- On EMR: the ``aws-kinesis`` Structured Streaming connector bundled with EMR 7.1+ (GetRecords consumer,
  shard metadata in the checkpoint folder, which is its default).
- Locally: the AWS connector is not published to Maven Central, so the local Kinesis emulator is read with
  the open-source Kinesis source ``com.qubole.spark:spark-sql-kinesis_2.12`` (format ``kinesis``): same
  output columns, polling GetRecords, shard metadata in the checkpoint, KPL de-aggregation. Its shaded AWS
  SDK needs CBOR off against the emulator (``AWS_CBOR_DISABLE=true`` or the shaded system property).
  Decision and evidence: docs/ARCHITECTURE.md.
- Files: NDJSON of unified trades, for replay and tests.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from .config import JobConfig

# Credentials the emulator accepts; without them the local connector would ask the EC2 metadata service.
EMULATOR_CREDENTIALS = ("local", "local")


def kinesis_source(spark: SparkSession, config: JobConfig, starting_position: str = "TRIM_HORIZON") -> DataFrame:
    """The trade stream from Kinesis: the emulator locally, Kinesis on AWS."""
    if config.mode == "emr":
        reader = (
            spark.readStream.format("aws-kinesis")
            .option("kinesis.streamName", config.stream)
            .option("kinesis.region", config.region)
            .option("kinesis.consumerType", "GetRecords")
            .option("kinesis.startingPosition", starting_position)
            # The connector requires the endpoint even on AWS; it does not derive it from the region.
            .option("kinesis.endpointUrl", config.kinesis_endpoint or f"https://kinesis.{config.region}.amazonaws.com")
        )
        raw = reader.load()
    else:
        if not config.kinesis_endpoint:
            raise ValueError(
                "local mode reads the Kinesis emulator: set --kinesis-endpoint (coattail local status shows it)"
            )
        key, secret = EMULATOR_CREDENTIALS
        raw = (
            spark.readStream.format("kinesis")
            .option("streamName", config.stream)
            .option("endpointUrl", config.kinesis_endpoint)
            .option("awsAccessKeyId", key)
            .option("awsSecretKey", secret)
            .option("startingposition", starting_position)
            # No empty micro-batch every trigger when the stream is quiet.
            .option("kinesis.client.avoidEmptyBatches", "true")
            .load()
        )
    return raw.select(
        F.col("data").cast(StringType()).alias("data"),
        F.col("partitionKey").alias("partition_key"),
        F.col("sequenceNumber").alias("sequence_number"),
        F.col("approximateArrivalTimestamp").alias("arrival_time"),
    )


def file_source(spark: SparkSession, directory: str, streaming: bool = True) -> DataFrame:
    """NDJSON files of unified trades, one trade a line, as a stream (or a batch) of raw records."""
    text = StructType([StructField("value", StringType())])
    df = spark.readStream.schema(text).text(directory) if streaming else spark.read.schema(text).text(directory)
    return df.select(
        F.col("value").alias("data"),
        F.lit(None).cast(StringType()).alias("partition_key"),
        F.lit(None).cast(StringType()).alias("sequence_number"),
        F.current_timestamp().alias("arrival_time"),
    )
