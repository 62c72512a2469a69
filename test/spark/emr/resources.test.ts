/** The resource flags and --conf: held to EMR Serverless's worker sizes, and kept off the keys coattail sets. */
import { describe, expect, it } from 'vitest';
import { CoattailError } from '../../../src/core/errors.js';
import { checkConfs, maxMemoryMb, resourceProperties, sparkSubmitParameters } from '../../../src/spark/emr/resources.js';

function refusal(f: () => unknown): CoattailError {
  try {
    f();
  } catch (err) {
    if (err instanceof CoattailError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('resource flags', () => {
  it('the largest memory a worker holds, with the 10% (at least 384 MiB) overhead', () => {
    // 1 vCPU: 8 GiB = 8192 MiB; 7447 + ceil(744.7) = 8192 fits, 7448 + 745 = 8193 does not.
    expect(maxMemoryMb(1)).toBe(7447);
    // 4 vCPU: 30 GiB = 30720 MiB; 27927 + 2793 = 30720.
    expect(maxMemoryMb(4)).toBe(27927);
    // 16 vCPU: 120 GiB = 122880 MiB; 111709 + 11171 = 122880.
    expect(maxMemoryMb(16)).toBe(111709);
  });

  it('map to the spark.* settings', () => {
    expect(
      resourceProperties({
        driverCores: '2',
        driverMemory: '12g',
        executorCores: '8',
        executorMemory: '48G',
        executors: '3',
        maxExecutors: '20',
      }),
    ).toEqual({
      'spark.driver.cores': '2',
      'spark.driver.memory': '12g',
      'spark.executor.cores': '8',
      'spark.executor.memory': '48g',
      'spark.executor.instances': '3',
      'spark.dynamicAllocation.maxExecutors': '20',
    });
    expect(resourceProperties({})).toEqual({});
    expect(resourceProperties({ executorMemory: '7168m' })).toEqual({ 'spark.executor.memory': '7168m' });
  });

  it('refuse what no EMR Serverless worker offers, with the limit in the line', () => {
    expect(refusal(() => resourceProperties({ driverCores: '3' })).line()).toBe(
      "coattail: --driver-cores '3' is not a supported worker size: EMR Serverless workers have 1, 2, 4, 8, 16 vCPUs. Pass one of them, e.g. --driver-cores 4",
    );
    const tooBig = refusal(() => resourceProperties({ executorCores: '2', executorMemory: '16g' }));
    expect(tooBig.exitCode).toBe(2);
    expect(tooBig.line()).toContain('--executor-memory 16g does not fit a 2-vCPU worker');
    expect(tooBig.line()).toContain('Pass --executor-memory 14894m or less');
    // Cores alone are checked against EMR Serverless's default memory (14 GiB), which a 1-vCPU worker cannot hold.
    expect(refusal(() => resourceProperties({ executorCores: '1' })).line()).toContain('the default 14g does not fit a 1-vCPU worker');
    expect(refusal(() => resourceProperties({ driverMemory: '14' })).line()).toContain("--driver-memory '14' is not a memory size");
    expect(refusal(() => resourceProperties({ executors: '0' })).line()).toContain("--executors '0' is not valid");
    expect(refusal(() => resourceProperties({ executors: '5', maxExecutors: '2' })).line()).toContain(
      '--executors 5 is more than --max-executors 2',
    );
  });
});

describe('--conf', () => {
  const own = new Set(['spark.submit.pyFiles', 'spark.sql.catalog.coattail.warehouse']);

  it('keeps Spark properties in order, the last of a repeated key winning, as one sparkSubmitParameters string', () => {
    const confs = checkConfs(['spark.sql.shuffle.partitions=64', 'spark.speculation=true', 'spark.sql.shuffle.partitions=32'], own);
    expect(confs).toEqual([
      ['spark.sql.shuffle.partitions', '32'],
      ['spark.speculation', 'true'],
    ]);
    expect(sparkSubmitParameters(confs)).toBe('--conf spark.sql.shuffle.partitions=32 --conf spark.speculation=true');
    expect(sparkSubmitParameters([])).toBeUndefined();
  });

  it('refuses a bad shape, a key with its own flag, and a key coattail sets', () => {
    for (const bad of ['spark.x', 'foo.bar=1', 'spark.x=a b', '=1', 'spark.x=']) {
      expect(refusal(() => checkConfs([bad], own)).line()).toContain(`--conf '${bad}' is not spark.KEY=VALUE`);
    }
    expect(refusal(() => checkConfs(['spark.executor.memory=8g'], own)).line()).toContain(
      '--conf spark.executor.memory has its own flag: sizes are checked against the EMR Serverless worker sizes. Use --executor-memory',
    );
    const ours = refusal(() => checkConfs(['spark.submit.pyFiles=s3://x/y.zip'], own));
    expect(ours.exitCode).toBe(2);
    expect(ours.line()).toContain('--conf spark.submit.pyFiles is set by coattail');
  });
});
