/**
 * Where coattail keeps things in its bucket. One layout for the job bundles, the job runs' checkpoints,
 * raw zone and logs, the DDL ledger and Athena's results; the Iceberg warehouse sits at `s3://<bucket>/warehouse`,
 * the location the DDL (ddl/*.sql) and the jobs' Glue catalog (jobs-py/emr-spark-conf.json) both use.
 */
export const PREFIX = 'coattail';

export interface BucketLayout {
  bucket: string;
  checkpointRoot: string;
  rawRoot: string;
  logUri: string;
  athenaOutput: string;
  ledgerKey: string;
  /** Where `coattail reprocess --emr` has the job write its comparison report. */
  reprocessRoot: string;
  bundleKey(hash: string, file: string): string;
  venvKey(hash: string, file: string): string;
  uri(key: string): string;
}

export function bucketLayout(bucket: string): BucketLayout {
  const uri = (key: string): string => `s3://${bucket}/${key}`;
  return {
    bucket,
    checkpointRoot: uri(`${PREFIX}/checkpoints`),
    rawRoot: uri(`${PREFIX}/raw`),
    logUri: uri(`${PREFIX}/logs/`),
    athenaOutput: uri(`${PREFIX}/athena-results/`),
    ledgerKey: `${PREFIX}/ddl/applied.json`,
    reprocessRoot: uri(`${PREFIX}/reprocess`),
    bundleKey: (hash, file) => `${PREFIX}/bundles/${hash}/${file}`,
    venvKey: (hash, file) => `${PREFIX}/venvs/${hash}/${file}`,
    uri,
  };
}
