/**
 * What `jobs submit` lets an operator tune about a run's Spark: driver and executor sizes (held to the
 * worker sizes EMR Serverless supports), the number of executors, and free `--conf key=value` pairs. Pure:
 * flags in, checked `spark.*` settings out.
 */
import { usageError } from '../../core/errors.js';
import { positiveInt } from '../../config/validate.js';

/** The flags as commander hands them over. */
export interface ResourceOptions {
  driverCores?: string;
  driverMemory?: string;
  executorCores?: string;
  executorMemory?: string;
  executors?: string;
  maxExecutors?: string;
}

/**
 * EMR Serverless's supported worker configurations (User Guide, "Supported worker configurations"): vCPUs,
 * and the largest memory a worker of that many vCPUs may have, in MiB. A smaller request is rounded up to
 * the next supported size by the service, so only the upper bound can make a run fail.
 */
export const WORKER_MAX_MEMORY_MB: ReadonlyMap<number, number> = new Map([
  [1, 8 * 1024],
  [2, 16 * 1024],
  [4, 30 * 1024],
  [8, 60 * 1024],
  [16, 120 * 1024],
]);

/** EMR Serverless's own defaults for the driver and each executor, used to check a flag given alone. */
export const EMR_DEFAULT_CORES = 4;
export const EMR_DEFAULT_MEMORY_MB = 14 * 1024;

/** Spark adds this to a container's memory (spark.{driver,executor}.memoryOverhead: 10%, at least 384 MiB). */
export function memoryOverheadMb(memoryMb: number): number {
  return Math.max(384, Math.ceil(memoryMb * 0.1));
}

const MEMORY = /^([1-9][0-9]{0,6})([mg])$/i;

/** `14g`, `7168m` → MiB. Spark reads a bare number as bytes or MiB depending on the key: a unit is required. */
export function parseMemoryMb(value: string, flag: string): number {
  const m = MEMORY.exec(value.trim());
  if (!m)
    throw usageError(
      `${flag} '${value}' is not a memory size`,
      'it is a whole number of MiB or GiB with its unit',
      `pass e.g. ${flag} 14g or ${flag} 7168m`,
    );
  const n = Number(m[1]);
  return m[2]!.toLowerCase() === 'g' ? n * 1024 : n;
}

function checkCores(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !WORKER_MAX_MEMORY_MB.has(n))
    throw usageError(
      `${flag} '${value}' is not a supported worker size`,
      `EMR Serverless workers have ${[...WORKER_MAX_MEMORY_MB.keys()].join(', ')} vCPUs`,
      `pass one of them, e.g. ${flag} 4`,
    );
  return n;
}

/** The largest `spark.*.memory` whose container (memory plus overhead) fits a worker of `cores` vCPUs. */
export function maxMemoryMb(cores: number): number {
  const worker = WORKER_MAX_MEMORY_MB.get(cores)!;
  let mb = Math.floor(worker / 1.1);
  while (mb + memoryOverheadMb(mb) > worker) mb -= 1;
  return mb;
}

function sized(role: 'driver' | 'executor', coresFlag: string | undefined, memoryFlag: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (coresFlag === undefined && memoryFlag === undefined) return out;
  const cores = coresFlag === undefined ? EMR_DEFAULT_CORES : checkCores(coresFlag, `--${role}-cores`);
  const memoryMb = memoryFlag === undefined ? EMR_DEFAULT_MEMORY_MB : parseMemoryMb(memoryFlag, `--${role}-memory`);
  const max = maxMemoryMb(cores);
  if (memoryMb > max) {
    const given = memoryFlag === undefined ? `the default ${EMR_DEFAULT_MEMORY_MB / 1024}g` : `--${role}-memory ${memoryFlag}`;
    throw usageError(
      `${given} does not fit a ${cores}-vCPU worker`,
      `with Spark's memory overhead a ${cores}-vCPU EMR Serverless worker holds at most ${max}m (${WORKER_MAX_MEMORY_MB.get(cores)! / 1024} GB)`,
      `pass --${role}-memory ${max}m or less, or more --${role}-cores`,
    );
  }
  if (coresFlag !== undefined) out[`spark.${role}.cores`] = String(cores);
  if (memoryFlag !== undefined) out[`spark.${role}.memory`] = memoryFlag.trim().toLowerCase();
  return out;
}

/** The checked resource flags as the `spark.*` settings they stand for. */
export function resourceProperties(opts: ResourceOptions): Record<string, string> {
  const out = { ...sized('driver', opts.driverCores, opts.driverMemory), ...sized('executor', opts.executorCores, opts.executorMemory) };
  const executors = opts.executors === undefined ? undefined : positiveInt(opts.executors, '--executors', 10_000);
  const maxExecutors = opts.maxExecutors === undefined ? undefined : positiveInt(opts.maxExecutors, '--max-executors', 10_000);
  if (executors !== undefined && maxExecutors !== undefined && executors > maxExecutors)
    throw usageError(
      `--executors ${executors} is more than --max-executors ${maxExecutors}`,
      'the run starts with --executors and dynamic allocation grows it up to --max-executors',
      'lower --executors or raise --max-executors',
    );
  if (executors !== undefined) out['spark.executor.instances'] = String(executors);
  if (maxExecutors !== undefined) out['spark.dynamicAllocation.maxExecutors'] = String(maxExecutors);
  return out;
}

/** The settings that have a flag of their own: `--conf` refuses them so there is one way to say each. */
export const RESOURCE_FLAGS: Readonly<Record<string, string>> = {
  'spark.driver.cores': '--driver-cores',
  'spark.driver.memory': '--driver-memory',
  'spark.executor.cores': '--executor-cores',
  'spark.executor.memory': '--executor-memory',
  'spark.executor.instances': '--executors',
  'spark.dynamicAllocation.maxExecutors': '--max-executors',
};

const CONF = /^(spark\.[A-Za-z0-9._-]+)=(\S+)$/;

/**
 * `--conf key=value` pairs, checked. A key coattail sets itself (the Glue/Iceberg catalog, the bundle, the
 * jobs' Python) is refused: on EMR Serverless a job's sparkSubmitParameters win over its spark-defaults, so
 * a user value would silently unwire the catalog or the code the job runs. Values may not hold whitespace:
 * sparkSubmitParameters is one string, split on spaces by the service.
 */
export function checkConfs(confs: readonly string[], ownKeys: ReadonlySet<string>): Array<[string, string]> {
  const seen = new Map<string, string>();
  for (const c of confs) {
    const m = CONF.exec(c);
    if (!m)
      throw usageError(
        `--conf '${c}' is not spark.KEY=VALUE`,
        'a setting is a Spark property, an equals sign and a value without spaces',
        'write it like --conf spark.sql.shuffle.partitions=64',
      );
    const [, key, value] = m as unknown as [string, string, string];
    const flag = RESOURCE_FLAGS[key];
    if (flag)
      throw usageError(`--conf ${key} has its own flag`, 'sizes are checked against the EMR Serverless worker sizes', `use ${flag}`);
    if (ownKeys.has(key))
      throw usageError(
        `--conf ${key} is set by coattail`,
        'it wires the catalog, the bundle or the Python the job runs with, and a different value would break the job',
        'leave it out (docs/DEPLOY.md lists what coattail sets)',
      );
    seen.set(key, value);
  }
  // The last occurrence of a key wins, as with spark-submit.
  return [...seen.entries()];
}

/** The `sparkSubmitParameters` string for the pairs, or undefined when there are none. */
export function sparkSubmitParameters(confs: ReadonlyArray<readonly [string, string]>): string | undefined {
  if (confs.length === 0) return undefined;
  return confs.map(([k, v]) => `--conf ${k}=${v}`).join(' ');
}
