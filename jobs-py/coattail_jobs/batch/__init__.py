"""The batch jobs: historical-loader, reprocess-anomalies and schema-evolution-demo."""
