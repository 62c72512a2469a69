/**
 * Reads new alerts of one type from the alert table, independent of any view: the terminal UI and the
 * NDJSON printer both drive it. Each poll is one Query on the `by_type_time` index (never a Scan):
 * `alert_type = :type AND alert_time >= :floor`, oldest first, following LastEvaluatedKey to the end.
 *
 * Why oldest first: the cursor (the newest alert_time seen) only moves forward, every item of the
 * `--since` window is read exactly once on the first poll in the order it happened, and the same code
 * serves the first poll and every later one. The view sorts newest first itself.
 *
 * Why `>=` and a look-back: alerts sharing the cursor's alert_time, and alerts written late with an
 * older alert_time (the jobs accept data up to their 2-minute watermark; the index is eventually
 * consistent), would be lost by a strict `>` on the cursor. So the floor is the cursor minus
 * `latenessMs`, and the ids already delivered (a bounded set, see SeenAlerts) are skipped.
 */
import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { isoFromMillis } from '../core/time.js';
import { ALERTS_BY_TYPE_TIME_INDEX, ALERT_TIME_KEY, ALERT_TYPE_KEY, type AlertType } from '../local/resources.js';
import { isoMillis, parseAlert, type WatchAlert } from './alerts.js';
import { plainItem } from './item.js';
import { usdAmount } from './kinds.js';
import { SeenAlerts } from './seen.js';

export interface AlertPollerOptions {
  client: DynamoDBClient;
  table: string;
  type: AlertType;
  /** Oldest alert_time to deliver, epoch ms (`--since` from now). */
  sinceMs: number;
  /** Only these symbols (upper case); all when empty or absent. */
  symbols?: readonly string[];
  /** Only alerts whose amount (see kinds.usdAmount) is at least this; types without one pass. */
  minUsd?: number;
  /** Items per Query page; by default DynamoDB's own page size (1 MB), the fewest round trips. */
  pageLimit?: number;
  /** How far before the newest alert_time seen each poll looks again for late writes. */
  latenessMs?: number;
  /** Most ids remembered for dedupe. */
  seenCapacity?: number;
  logger?: Logger;
}

export interface PollerCounters {
  polls: number;
  pages: number;
  /** Items the queries returned, re-reads included. */
  itemsRead: number;
  delivered: number;
  /** Items read again (the look-back window) and not delivered twice. */
  reread: number;
  /** Items that do not parse as an alert of the type: counted, logged at debug, skipped. */
  unparsable: number;
  /** Alerts left out by --symbols or --min-usd. */
  filtered: number;
}

export const DEFAULT_LATENESS_MS = 120_000;
export const DEFAULT_SEEN_CAPACITY = 20_000;

export class AlertPoller {
  private readonly seen: SeenAlerts;
  private readonly since: string;
  private readonly symbols: ReadonlySet<string> | undefined;
  private readonly logger: Logger;
  /** The newest alert_time of any valid alert read. */
  private newest: string | undefined;
  /** Raised past ids the seen-set had to forget, so they are never queried again. */
  private trimmedFloor: string | undefined;
  private readonly counters: PollerCounters = { polls: 0, pages: 0, itemsRead: 0, delivered: 0, reread: 0, unparsable: 0, filtered: 0 };

  constructor(private readonly opts: AlertPollerOptions) {
    this.seen = new SeenAlerts(opts.seenCapacity ?? DEFAULT_SEEN_CAPACITY);
    this.since = isoFromMillis(opts.sinceMs);
    this.symbols = opts.symbols && opts.symbols.length > 0 ? new Set(opts.symbols) : undefined;
    this.logger = opts.logger ?? silentLogger;
  }

  stats(): Readonly<PollerCounters> {
    return { ...this.counters };
  }

  /** The lowest alert_time the next poll asks for. */
  floor(): string {
    let floor = this.since;
    if (this.newest !== undefined) {
      const lookBack = isoFromMillis(isoMillis(this.newest) - (this.opts.latenessMs ?? DEFAULT_LATENESS_MS));
      if (lookBack > floor) floor = lookBack;
    }
    if (this.trimmedFloor !== undefined && this.trimmedFloor > floor) floor = this.trimmedFloor;
    return floor;
  }

  /**
   * One poll: every page of the query, each page's new alerts handed to `deliver` (in alert_time
   * order) before the next page is asked for, so a slow reader slows the poll. Returns how many were
   * delivered. Errors from DynamoDB are thrown as they are; the loop decides what they mean.
   */
  async poll(deliver: (alerts: WatchAlert[]) => void | Promise<void>, signal?: AbortSignal): Promise<number> {
    this.counters.polls += 1;
    const input: QueryCommandInput = {
      TableName: this.opts.table,
      IndexName: ALERTS_BY_TYPE_TIME_INDEX,
      KeyConditionExpression: '#type = :type AND #time >= :floor',
      ExpressionAttributeNames: { '#type': ALERT_TYPE_KEY, '#time': ALERT_TIME_KEY },
      ExpressionAttributeValues: { ':type': { S: this.opts.type }, ':floor': { S: this.floor() } },
      ScanIndexForward: true,
      ...(this.opts.pageLimit !== undefined ? { Limit: this.opts.pageLimit } : {}),
    };
    let delivered = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.opts.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }), { abortSignal: signal });
      this.counters.pages += 1;
      const fresh = this.take(out.Items ?? []);
      if (fresh.length > 0) {
        delivered += fresh.length;
        this.counters.delivered += fresh.length;
        await deliver(fresh);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined && signal?.aborted !== true);
    this.forgetOld();
    return delivered;
  }

  /** The page's items not seen before, parsed and filtered. */
  private take(items: Record<string, AttributeValue>[]): WatchAlert[] {
    const fresh: WatchAlert[] = [];
    for (const raw of items) {
      this.counters.itemsRead += 1;
      // Both are key attributes of the index, so every item it returns has them as strings.
      const id = raw.alert_id?.S ?? '';
      const time = raw[ALERT_TIME_KEY]?.S ?? '';
      if (this.seen.has(id)) {
        this.counters.reread += 1;
        continue;
      }
      this.seen.add(id, time);
      const parsed = this.parse(raw);
      if (!parsed.ok) {
        this.counters.unparsable += 1;
        this.logger.debug('alert skipped: not a valid alert', { alert_id: id, alert_type: this.opts.type, reason: parsed.reason });
        continue;
      }
      const alert = parsed.alert;
      if (this.newest === undefined || alert.alert_time > this.newest) this.newest = alert.alert_time;
      if (!this.accepts(alert)) {
        this.counters.filtered += 1;
        continue;
      }
      fresh.push(alert);
    }
    return fresh;
  }

  private parse(raw: Record<string, AttributeValue>): ReturnType<typeof parseAlert> {
    try {
      return parseAlert(this.opts.type, plainItem(raw));
    } catch (err) {
      return { ok: false, reason: errorMessage(err) };
    }
  }

  private accepts(alert: WatchAlert): boolean {
    if (this.symbols && !this.symbols.has(alert.symbol)) return false;
    const amount = usdAmount(alert);
    if (this.opts.minUsd !== undefined && amount !== undefined && amount < this.opts.minUsd) return false;
    return true;
  }

  private forgetOld(): void {
    this.seen.forgetBefore(this.floor());
    const cut = this.seen.trim();
    if (cut === undefined) return;
    const ms = isoMillis(cut);
    // alert_time has ms precision: one ms past the cut is the first time not forgotten.
    if (Number.isFinite(ms)) this.trimmedFloor = isoFromMillis(ms + 1);
    this.logger.warn('more alerts than the dedupe set holds: late alerts older than this are no longer read', {
      before: this.trimmedFloor ?? cut,
    });
  }
}
