/**
 * The bridge from the poller to the screen: the poll loop pushes, the app subscribes. Events pushed
 * before the app subscribes (React subscribes after its first render) are kept and replayed, so the
 * first page of alerts is never lost to that race.
 */
import type { WatchAlert } from './alerts.js';

export type FeedEvent =
  { type: 'alerts'; alerts: WatchAlert[] } | { type: 'skipped'; count: number } | { type: 'status'; text: string | undefined };

export class AlertFeed {
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private pending: FeedEvent[] = [];

  push(alerts: WatchAlert[]): void {
    this.emit({ type: 'alerts', alerts });
  }

  skipped(count: number): void {
    this.emit({ type: 'skipped', count });
  }

  status(text: string | undefined): void {
    this.emit({ type: 'status', text });
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    const replay = this.pending;
    this.pending = [];
    for (const event of replay) listener(event);
    return () => this.listeners.delete(listener);
  }

  private emit(event: FeedEvent): void {
    if (this.listeners.size === 0) {
      this.pending.push(event);
      return;
    }
    for (const listener of this.listeners) listener(event);
  }
}
