/**
 * JSON GETs to an exchange's public REST API for gap backfill, with the exchanges' rules: 429 (and
 * Binance's 418 ban) wait the `Retry-After`; 5xx, timeouts and network errors retry with full-jitter
 * backoff a bounded number of times; any other 4xx is final. A wait that would end after the caller's
 * deadline gives up at once, so a ban or an unreachable host never holds a run.
 */
import { fullJitterDelay, sleep, type BackoffPolicy } from '../core/backoff.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';

/** The backfill of a gap gave up: why, in words for the log. */
export class BackfillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackfillError';
  }
}

export interface RestClientOptions {
  /** The exchange's name as people read it, for messages. */
  name: string;
  backoff?: BackoffPolicy;
  /** Attempts per request for 5xx, timeouts and network errors. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** When no Retry-After comes with a 429/418 (default 60 s, Binance's weight minute). */
  defaultRetryAfterMs?: number;
  logger?: Logger;
  random?: () => number;
}

export interface RestAnswer {
  body: unknown;
  headers: Headers;
}

const DEFAULTS = { backoff: { baseMs: 250, capMs: 5_000 }, maxAttempts: 4, requestTimeoutMs: 10_000, defaultRetryAfterMs: 60_000 };

export class RestClient {
  /** The exchange asked us to wait (429/418) until this time: every request waits, or gives up. */
  private notBefore = 0;
  private readonly o: Required<Omit<RestClientOptions, 'logger' | 'random'>>;
  private readonly logger: Logger;
  private readonly random: () => number;

  constructor(opts: RestClientOptions) {
    this.o = { ...DEFAULTS, ...opts };
    this.logger = opts.logger ?? silentLogger;
    this.random = opts.random ?? Math.random;
  }

  /** Holds every request until `at` (a weight budget spent): it is the same wait as a Retry-After. */
  waitUntil(at: number): void {
    this.notBefore = Math.max(this.notBefore, at);
  }

  async get(url: string, headers: Record<string, string>, signal: AbortSignal, deadline: number): Promise<RestAnswer> {
    let last = '';
    for (let attempt = 0; attempt < this.o.maxAttempts; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) {
        if (Date.now() + wait > deadline)
          throw new BackfillError(`${this.o.name} asks to wait ${Math.ceil(wait / 1000)} s more (${last || 'rate limit'})`);
        await sleep(wait, signal);
      }
      if (signal.aborted) throw new BackfillError(`stopped (${last || 'deadline reached'})`);
      // One controller per request, its listener removed after: a long backfill adds none to the caller's signal.
      // The timer runs until the body is read: a server that sends headers and then stalls is a timeout too.
      const request = new AbortController();
      let timedOut = false;
      const abort = (): void => request.abort();
      const timer = setTimeout(() => {
        timedOut = true;
        abort();
      }, this.o.requestTimeoutMs);
      signal.addEventListener('abort', abort, { once: true });
      let res: Response | undefined;
      let body: unknown;
      let text = '';
      try {
        res = await fetch(url, { headers, signal: request.signal });
        if (res.ok) body = await res.json();
        else text = (await res.text().catch(() => '')).slice(0, 200);
      } catch (err) {
        if (signal.aborted) throw new BackfillError(`stopped (${last || 'deadline reached'})`);
        const within = `within ${this.o.requestTimeoutMs / 1000} s`;
        if (res === undefined) last = `no answer from ${url}${timedOut ? ` ${within}` : `: ${causeOf(err)}`}`;
        else last = timedOut ? `no complete answer from ${url} ${within}` : `unreadable answer from ${url}: ${errorMessage(err)}`;
        await this.backoff(attempt, last, signal);
        continue;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
      }
      if (res.ok) return { body, headers: res.headers };
      last = `HTTP ${res.status} for ${url}${text ? `: ${text}` : ''}`;
      if (res.status === 429 || res.status === 418) {
        const seconds = Number(res.headers.get('retry-after'));
        const waitMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : this.o.defaultRetryAfterMs;
        this.waitUntil(Date.now() + waitMs);
        this.logger.warn(`${this.o.name} ${res.status === 418 ? 'banned' : 'rate-limited'} the REST requests: waiting`, {
          status: res.status,
          wait_ms: waitMs,
        });
        attempt -= 1; // a wait the exchange asked for is not a failed attempt; the deadline bounds it
        continue;
      }
      if (res.status < 500) throw new BackfillError(last);
      await this.backoff(attempt, last, signal);
    }
    throw new BackfillError(`gave up after ${this.o.maxAttempts} attempts: ${last}`);
  }

  private async backoff(attempt: number, why: string, signal: AbortSignal): Promise<void> {
    if (attempt + 1 >= this.o.maxAttempts) return;
    const delay = fullJitterDelay(attempt, this.o.backoff, this.random);
    this.logger.debug(`${this.o.name} REST request failed: retrying`, { why, in_ms: delay });
    await sleep(delay, signal);
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`. */
function causeOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const code = cause && 'code' in cause ? String(cause.code) : undefined;
  return code ?? (cause ? cause.message : errorMessage(err));
}
