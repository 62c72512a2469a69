/**
 * Spark settings the demo adds around the jobs' own SparkConf (jobs-py/coattail_jobs/config.py), through
 * a conf folder of its own (`SPARK_CONF_DIR`): nothing here changes what the jobs compute.
 *
 * - FAIR scheduling inside the default pool: the five queries share one local Spark application, and
 *   under FIFO a whale batch's few tasks wait behind every task of a raw-archiver MERGE queued before
 *   them; FAIR gives free cores to the job with the fewest running tasks.
 * - No locality wait: in local mode there is one executor, waiting for a "better" one gains nothing.
 * - Each query's progress (batch durations: fetch, planning, the sinks) at INFO in the log, so where
 *   the time goes is on record (docs/PERFORMANCE.md reads it); everything else of Spark at WARN.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const FAIR_SCHEDULER = `<?xml version="1.0"?>
<allocations>
  <pool name="default">
    <schedulingMode>FAIR</schedulingMode>
    <weight>1</weight>
    <minShare>0</minShare>
  </pool>
</allocations>
`;

const LOG4J2 = `status = error
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.progress.name = org.apache.spark.sql.execution.streaming.MicroBatchExecution
logger.progress.level = info
`;

/** Writes the conf folder; returns it, for `SPARK_CONF_DIR`. */
export function writeSparkConf(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const scheduler = path.join(dir, 'fairscheduler.xml');
  writeFileSync(scheduler, FAIR_SCHEDULER);
  writeFileSync(path.join(dir, 'log4j2.properties'), LOG4J2);
  writeFileSync(
    path.join(dir, 'spark-defaults.conf'),
    ['spark.scheduler.mode FAIR', `spark.scheduler.allocation.file ${pathToFileURL(scheduler).href}`, 'spark.locality.wait 0s', ''].join(
      '\n',
    ),
  );
  return dir;
}
