/**
 * The SparkConf a job run gets on EMR Serverless. Its one source is config.py's `emr_spark_conf`, rendered
 * to jobs-py/emr-spark-conf.json by `python -m coattail_jobs spark-conf emr` (a pytest keeps the file equal to
 * the rendering); `${bucket}` is filled in here. To this submit adds only what belongs to one run: the bundle
 * (`spark.submit.pyFiles`) and which Python runs it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CoattailError, errorMessage } from '../../core/errors.js';

export const EMR_SPARK_CONF_FILE = path.join('jobs-py', 'emr-spark-conf.json');

/** Where the jobs' Python comes from on EMR: the image's python3.11 (EMR 7.1+), or a packed virtualenv. */
export type EmrPython = { kind: 'interpreter'; path: string } | { kind: 'archive'; uri: string };

/** EMR 7.1 and later list Python 3.9 and 3.11; the jobs need 3.11 (pyproject's requires-python). */
export const DEFAULT_EMR_PYTHON = '/usr/bin/python3.11';
/** Where `spark.archives` unpacks the virtualenv, relative to the driver's and executors' working folders. */
export const ARCHIVE_ALIAS = 'environment';

export function loadEmrSparkConf(root: string): Record<string, string> {
  const file = path.join(root, EMR_SPARK_CONF_FILE);
  try {
    return z.record(z.string(), z.string()).parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new CoattailError(
      `cannot read the EMR SparkConf ${file}`,
      errorMessage(err).split('\n')[0]!,
      'regenerate it: cd jobs-py && .venv/bin/python -m coattail_jobs spark-conf emr --out emr-spark-conf.json',
    );
  }
}

/** The template with the bucket filled in; any other placeholder left is an error (the template is ours). */
export function renderSparkConf(template: Record<string, string>, bucket: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(template)) {
    const rendered = value.split('${bucket}').join(bucket);
    if (rendered.includes('${'))
      throw new CoattailError(
        `the EMR SparkConf has an unknown placeholder in ${key}`,
        `'${value}'`,
        'only ${bucket} is filled in: fix jobs-py/coattail_jobs and regenerate emr-spark-conf.json',
      );
    out[key] = rendered;
  }
  return out;
}

/** The properties that choose the jobs' Python (driver and executors), per the EMR Serverless samples. */
export function pythonProperties(python: EmrPython): Record<string, string> {
  if (python.kind === 'interpreter') {
    return {
      'spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON': python.path,
      'spark.emr-serverless.driverEnv.PYSPARK_PYTHON': python.path,
      'spark.executorEnv.PYSPARK_PYTHON': python.path,
    };
  }
  const bin = `./${ARCHIVE_ALIAS}/bin/python`;
  return {
    'spark.archives': `${python.uri}#${ARCHIVE_ALIAS}`,
    'spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON': bin,
    'spark.emr-serverless.driverEnv.PYSPARK_PYTHON': bin,
    'spark.executorEnv.PYSPARK_PYTHON': bin,
  };
}
