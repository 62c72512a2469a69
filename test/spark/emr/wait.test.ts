/**
 * Following a job run (`jobs submit --wait`, `jobs cancel`): the transitions as lines, under them a spinner with
 * the state and the time spent on a terminal, plain lines elsewhere. EMR Serverless at the SDK boundary.
 */
import { EMRServerlessClient, GetDashboardForJobRunCommand, GetJobRunCommand } from '@aws-sdk/client-emr-serverless';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/core/context.js';
import { createLogger } from '../../../src/core/logger.js';
import type { JobsDeps } from '../../../src/spark/emr/settings.js';
import { waitForOutcome } from '../../../src/spark/emr/wait.js';
import { Capture, testContext, waitFor } from '../../helpers/context.js';
import { APP, jobRunOutput, RUN } from '../../helpers/emr-submit.js';
import { FakeTerminal } from '../../helpers/terminal.js';

describe('the progress of a followed job run', () => {
  const emr = new EMRServerlessClient({ region: 'eu-west-1' });
  const emrMock = mockClient(emr);
  const s3 = new S3Client({ region: 'eu-west-1' });
  let deps: JobsDeps;
  beforeEach(() => {
    emrMock.reset();
    emrMock.on(GetDashboardForJobRunCommand).resolves({ url: 'https://ui.example/shs/' });
    deps = { emr, s3, sleep: async () => {}, pollMs: 1 };
  });
  const follow = (ctx: CommandContext) =>
    waitForOutcome({ emr, s3, applicationId: APP, jobRunId: RUN, label: 'whale-detector', ctx, deps }, false);

  it('on a terminal draws a spinner with the state and the time spent, the transitions as lines above it', async () => {
    const tty = new FakeTerminal();
    let now = Date.UTC(2026, 0, 5, 12, 0, 0);
    const ctx = testContext({
      stderr: tty,
      env: { TERM: 'xterm' },
      logger: createLogger(tty, { level: 'info' }),
      clock: { now: () => now },
    });
    emrMock
      .on(GetJobRunCommand)
      .callsFakeOnce(() => {
        now += 83_000; // the run is RUNNING 83 s after the wait began
        return jobRunOutput('RUNNING');
      })
      .resolvesOnce(jobRunOutput('SUCCESS'));
    // The next poll waits until the spinner has drawn what it says then.
    deps.sleep = async () => {
      await waitFor(() => tty.text().includes(`whale-detector ${RUN} RUNNING 1m23s`), 10_000, 'the spinner to draw');
    };
    expect((await follow(ctx)).code).toBe(0);
    const text = tty.text();
    expect(text).toContain('\x1b['); // drawn in place
    expect(text).toContain(`12:01:23 whale-detector ${RUN}: RUNNING\n`);
    expect(text).toContain('Spark UI: https://ui.example/shs/\n');
    expect(text).toContain(`whale-detector ${RUN} ended SUCCESS\n`);
    expect(ctx.out.text()).toBe('');
  });

  it('off a terminal writes the transitions as plain lines and the state as a log line, no escape codes', async () => {
    const err = new Capture();
    const ctx = testContext({ stderr: err, logger: createLogger(err, { level: 'info', clock: () => 0 }) });
    emrMock.on(GetJobRunCommand).resolvesOnce(jobRunOutput('PENDING')).resolvesOnce(jobRunOutput('SUCCESS'));
    expect((await follow(ctx)).code).toBe(0);
    expect(err.text()).not.toContain('\x1b');
    const lines = err.lines().map((l) => l.replace(/^\d\d:\d\d:\d\d(\.\d+ info )? */, ''));
    expect(lines).toEqual([
      `whale-detector ${RUN} submitted`,
      `whale-detector ${RUN}: PENDING`,
      `whale-detector ${RUN}: PENDING → SUCCESS`,
      'Spark UI: https://ui.example/shs/',
      `whale-detector ${RUN} ended SUCCESS`,
    ]);
  });
});
