/**
 * `demo --duration` past Node's timer limit: the running phase ends when the duration is over, not
 * 1 ms in. The parts that run meanwhile (Spark, the ingest, the market) stand still here: the only
 * reason to stop is the duration, on a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunningApps } from '../../src/demo/apps.js';
import type { DemoIngest } from '../../src/demo/ingest.js';
import type { Market } from '../../src/demo/market.js';
import { planDemo } from '../../src/demo/plan.js';
import { runUntilStop } from '../../src/demo/until-stop.js';
import { captureLogger, testContext } from '../helpers/context.js';

const THIRTY_DAYS = 30 * 86_400_000;
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('the demo running phase', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('--duration 2592000 (30 days) ends after 30 days, not before', async () => {
    const ctx = testContext();
    const plan = planDemo({ duration: '2592000', dir: '/nonexistent/coattail-demo' }, ctx, { canShowView: true });
    expect(plan.durationMs).toBe(THIRTY_DAYS);
    const { logger } = captureLogger();
    let viewEnded = false;
    const ended = runUntilStop(plan, ctx, {
      market: { done: never<void>(), startedAtMs: 0 } as unknown as Market,
      spark: { anyExited: never<string>() } as unknown as RunningApps,
      ingest: { result: never() } as unknown as DemoIngest,
      store: {
        region: 'us-east-1',
        kinesisEndpoint: 'http://127.0.0.1:1',
        dynamodbEndpoint: 'http://127.0.0.1:1',
        stream: 's',
        alertsTable: 't',
      },
      log: { logger, mute: () => undefined },
      hooks: {
        // The live view: open until the demo ends for another reason.
        ui: (env) =>
          new Promise<void>((resolve) =>
            env.ctx.signal.addEventListener('abort', () => {
              viewEnded = true;
              resolve();
            }),
          ),
      },
    });
    let reason: string | undefined;
    void ended.then((r) => (reason = r));

    await vi.advanceTimersByTimeAsync(1);
    expect(reason).toBeUndefined();
    await vi.advanceTimersByTimeAsync(THIRTY_DAYS - 2); // 1 ms before the end
    expect(reason).toBeUndefined();
    expect(viewEnded).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(reason).toBe('--duration 2592000s');
    expect(viewEnded).toBe(true);
  });
});
