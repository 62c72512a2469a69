/**
 * Several AlertPollers (one per alert type) driven as one: each poll asks every one of them in turn, so a
 * view of several kinds runs one poll loop, one backoff and one status line.
 */
import type { WatchAlert } from './alerts.js';
import type { Pollable } from './poll-loop.js';
import type { AlertPoller, PollerCounters } from './poller.js';

export class PollerGroup implements Pollable {
  constructor(private readonly pollers: readonly AlertPoller[]) {}

  async poll(deliver: (alerts: WatchAlert[]) => void | Promise<void>, signal?: AbortSignal): Promise<number> {
    let delivered = 0;
    for (const poller of this.pollers) delivered += await poller.poll(deliver, signal);
    return delivered;
  }

  /** The counters of all of them, added up. */
  stats(): PollerCounters {
    const total: PollerCounters = { polls: 0, pages: 0, itemsRead: 0, delivered: 0, reread: 0, unparsable: 0, filtered: 0 };
    for (const poller of this.pollers) {
      const s = poller.stats();
      for (const key of Object.keys(total) as Array<keyof PollerCounters>) total[key] += s[key];
    }
    return total;
  }
}
