/**
 * The terminal view: mounts WatchApp and feeds it from the poll loop until the user quits, a signal
 * arrives, or polling fails for good (then the error is thrown once the terminal is restored).
 */
import { render } from 'ink';
import { AlertFeed } from './feed.js';
import type { WatchSettings } from './Header.js';
import type { WatchKind } from './kinds.js';
import { runPollLoop, type PollLoopOptions, type PollStatus } from './poll-loop.js';
import type { PollerGroup } from './poller-group.js';
import { WatchApp } from './WatchApp.js';

export interface WatchTuiOptions {
  /** The kind shown first. */
  kind: WatchKind;
  /** Every kind the view switches between (the poller reads them all). */
  kinds: readonly WatchKind[];
  settings: WatchSettings;
  color: boolean;
  poller: PollerGroup;
  loop: Omit<PollLoopOptions, 'signal' | 'onAlerts' | 'onStatus'>;
  signal: AbortSignal;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

function statusText(status: PollStatus): string | undefined {
  if (status.kind === 'ok') return undefined;
  const wait = `retrying in ${(status.delayMs / 1000).toFixed(1)}s`;
  return status.throttled ? `throttled by DynamoDB, ${wait}` : `poll failed (${status.reason}), ${wait}`;
}

export async function runWatchTui(opts: WatchTuiOptions): Promise<void> {
  const feed = new AlertFeed();
  const polling = new AbortController();
  const app = render(<WatchApp kind={opts.kind} kinds={opts.kinds} feed={feed} settings={opts.settings} color={opts.color} />, {
    stdout: opts.stdout,
    stdin: opts.stdin,
    stderr: opts.stderr,
    // WatchApp handles Ctrl-C itself (the same path as q), so the terminal is restored one way.
    exitOnCtrlC: false,
  });
  const stop = (): void => app.unmount();
  opts.signal.addEventListener('abort', stop, { once: true });
  let failed = false;
  let failure: unknown;
  const loop = runPollLoop(opts.poller, {
    ...opts.loop,
    signal: polling.signal,
    onAlerts: (alerts) => feed.push(alerts),
    onStatus: (status) => {
      feed.status(statusText(status));
      feed.skipped(opts.poller.stats().unparsable);
    },
  }).catch((err: unknown) => {
    failed = true;
    failure = err;
    app.unmount();
  });
  try {
    await app.waitUntilExit();
  } finally {
    opts.signal.removeEventListener('abort', stop);
    polling.abort();
    await loop;
  }
  if (failed) throw failure;
}
