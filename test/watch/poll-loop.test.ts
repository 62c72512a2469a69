/**
 * The poll loop's waits and give-ups, at the SDK boundary (aws-sdk-client-mock): throttling and
 * failures dynalite cannot produce on demand. The requests themselves are asserted too.
 */
import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AlertPoller } from '../../src/watch/poller.js';
import { runPollLoop, type PollStatus } from '../../src/watch/poll-loop.js';
import { isoAt, typed, whaleItem } from '../helpers/watch.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');

function setup(): { mock: ReturnType<typeof mockClient>; poller: AlertPoller } {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const poller = new AlertPoller({ client, table: 'alerts', type: 'whale', sinceMs: NOW - 60_000 });
  return { mock, poller };
}

/** Runs the loop with a recorded, instant sleep that stops it after `sleeps` waits. */
async function run(
  poller: AlertPoller,
  sleeps: number,
): Promise<{ delays: number[]; statuses: PollStatus[]; delivered: string[]; error: unknown }> {
  const abort = new AbortController();
  const delays: number[] = [];
  const statuses: PollStatus[] = [];
  const delivered: string[] = [];
  let error: unknown;
  await runPollLoop(poller, {
    intervalMs: 100,
    signal: abort.signal,
    random: () => 0.5,
    onAlerts: (alerts) => {
      delivered.push(...alerts.map((a) => a.alert_id));
    },
    onStatus: (s) => statuses.push(s),
    sleep: async (ms) => {
      delays.push(ms);
      if (delays.length >= sleeps) abort.abort();
    },
  }).catch((err: unknown) => {
    error = err;
  });
  return { delays, statuses, delivered, error };
}

const throttled = (): ProvisionedThroughputExceededException =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded',
    $metadata: {},
  });

describe('the poll loop', () => {
  it('backs off on throttling, then polls at the interval, then waits longer (capped) while nothing arrives', async () => {
    const { mock, poller } = setup();
    const item = whaleItem({ alert_time: isoAt(NOW, -1_000), trade_id: '1' });
    mock
      .on(QueryCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolvesOnce({ Items: [typed(item)] })
      .resolves({ Items: [typed(item)] }); // read again in the look-back: nothing new
    const r = await run(poller, 7);
    expect(r.error).toBeUndefined();
    expect(r.delivered).toEqual([item.alert_id]);
    // Throttled: half of min(30 s, 100 ms × 2^attempt) fixed, plus random (0.5) × the other half.
    // Then 100 after a poll that delivered; 100, 200, 400, 400 (cap 4 × interval) while nothing new.
    expect(r.delays).toEqual([150, 300, 100, 100, 200, 400, 400]);
    expect(r.statuses.slice(0, 3)).toEqual([
      { kind: 'retrying', throttled: true, attempt: 1, delayMs: 150, reason: expect.stringContaining('provisioned throughput') },
      { kind: 'retrying', throttled: true, attempt: 2, delayMs: 300, reason: expect.any(String) },
      { kind: 'ok', delivered: 1, nextPollMs: 100 },
    ]);
    const calls = mock.commandCalls(QueryCommand);
    expect(calls).toHaveLength(7);
    for (const call of calls) {
      expect(call.args[0].input).toMatchObject({
        TableName: 'alerts',
        IndexName: 'by_type_time',
        KeyConditionExpression: '#type = :type AND #time >= :floor',
        ExpressionAttributeNames: { '#type': 'alert_type', '#time': 'alert_time' },
        ScanIndexForward: true,
      });
    }
    expect(calls[0]?.args[0].input.ExpressionAttributeValues).toEqual({ ':type': { S: 'whale' }, ':floor': { S: isoAt(NOW, -60_000) } });
    expect(mock.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('stops at once on a permanent error such as a missing table', async () => {
    const { mock, poller } = setup();
    mock.on(QueryCommand).rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
    const r = await run(poller, 10);
    expect((r.error as Error).name).toBe('ResourceNotFoundException');
    expect(r.delays).toEqual([]);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it('stops when the very first poll fails, since the store is probably not there', async () => {
    const { mock, poller } = setup();
    mock.on(QueryCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    const r = await run(poller, 10);
    expect((r.error as Error).message).toContain('ECONNREFUSED');
    expect(r.delays).toEqual([]);
  });

  it('retries failures after a good poll, and gives up after five in a row', async () => {
    const { mock, poller } = setup();
    const refused = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    mock.on(QueryCommand).resolvesOnce({ Items: [] }).rejects(refused);
    const r = await run(poller, 100);
    expect((r.error as Error).message).toBe('socket hang up');
    // One idle wait after the good poll, then four retries (100 ms × 2^n, half fixed, half random).
    expect(r.delays).toEqual([100, 150, 300, 600, 1200]);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(6);
  });
});
