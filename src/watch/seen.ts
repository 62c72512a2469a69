/**
 * The alert ids already delivered, so a re-read item is never shown twice. Each id keeps its
 * alert_time: ids older than the poller's query floor can never come back and are forgotten, which
 * keeps the set as small as the window the poller re-reads. Past `capacity` (a burst bigger than the
 * window can hold), the oldest times are forgotten and the floor is raised past them, so an id is
 * never forgotten while the query could still return it: over capacity, a late item is lost rather
 * than shown twice.
 */
export class SeenAlerts {
  private readonly times = new Map<string, string>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.times.size;
  }

  has(id: string): boolean {
    return this.times.has(id);
  }

  add(id: string, alertTime: string): void {
    this.times.set(id, alertTime);
  }

  /** Forgets ids whose alert_time sorts before `floor` (ISO text: string order is time order). */
  forgetBefore(floor: string): void {
    for (const [id, time] of this.times) if (time < floor) this.times.delete(id);
  }

  /**
   * When over capacity, forgets the oldest alert_times, whole (ids sharing a time go together), and
   * returns the newest time forgotten: the caller must never query at or before it again.
   */
  trim(): string | undefined {
    if (this.times.size <= this.capacity) return undefined;
    const perTime = new Map<string, number>();
    for (const time of this.times.values()) perTime.set(time, (perTime.get(time) ?? 0) + 1);
    let size = this.times.size;
    let cut: string | undefined;
    for (const time of [...perTime.keys()].sort()) {
      if (size <= this.capacity) break;
      size -= perTime.get(time) ?? 0;
      cut = time;
    }
    if (cut !== undefined) for (const [id, time] of this.times) if (time <= cut) this.times.delete(id);
    return cut;
  }
}
