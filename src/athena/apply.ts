/**
 * Applying the pending statements in order, recording each success in the ledger before the next one
 * starts, and stopping at the first failure with the reason the engine gave. The engine is Athena on AWS
 * (`athenaEngine`) or local Spark (local.ts); the ledger logic is the same for both.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { CoattailError } from '../core/errors.js';
import type { Ledger, LedgerStore } from './ledger.js';
import type { PlannedStatement } from './plan.js';
import { runQuery, type PollOptions, type QueryTarget } from './query.js';

export interface EngineSuccess {
  ok: true;
  queryExecutionId?: string | undefined;
}
export interface EngineFailure {
  ok: false;
  reason: string;
  queryExecutionId?: string | undefined;
}
export type EngineOutcome = EngineSuccess | EngineFailure;

/** Runs statements one at a time, in the order given, calling back after each; stops when the callback throws. */
export type Engine = (
  pending: readonly PlannedStatement[],
  onOutcome: (st: PlannedStatement, outcome: EngineOutcome) => Promise<void>,
) => Promise<void>;

export function athenaEngine(athena: AthenaClient, target: QueryTarget, poll: PollOptions, signal: AbortSignal): Engine {
  return async (pending, onOutcome) => {
    for (const st of pending) {
      if (signal.aborted) return;
      const out = await runQuery(athena, st.sql, target, poll);
      await onOutcome(
        st,
        out.state === 'SUCCEEDED'
          ? { ok: true, queryExecutionId: out.queryExecutionId }
          : { ok: false, reason: `${out.state}: ${out.reason ?? ''}`.trim(), queryExecutionId: out.queryExecutionId },
      );
    }
  };
}

export interface ApplyReport {
  applied: PlannedStatement[];
  interrupted: boolean;
}

export interface ApplyOptions {
  store: LedgerStore;
  ledger: Ledger;
  version: string | undefined;
  now: () => number;
  onApplied(st: PlannedStatement, outcome: EngineSuccess): void;
  signal: AbortSignal;
}

function label(st: PlannedStatement): string {
  return st.table ? `${st.file} (${st.database}.${st.table})` : st.file;
}

export async function applyPending(pending: readonly PlannedStatement[], engine: Engine, opts: ApplyOptions): Promise<ApplyReport> {
  const applied: PlannedStatement[] = [];
  let version = opts.version;
  const ledger: Ledger = { version: 1, applied: { ...opts.ledger.applied } };
  // Throwing from the callback is what stops the engine: nothing after a failure is sent.
  await engine(pending, async (st, outcome) => {
    if (!outcome.ok) {
      const query = outcome.queryExecutionId ? ` (query ${outcome.queryExecutionId})` : '';
      throw new CoattailError(
        `ddl apply stopped at ${label(st)}`,
        `${outcome.reason}${query}`,
        `fix it and run ddl apply again; ${applied.length} statement(s) before it were applied and recorded in ${opts.store.location}`,
      );
    }
    ledger.applied[st.key] = {
      file: st.file,
      sha256: st.sha256,
      appliedAt: new Date(opts.now()).toISOString(),
      queryExecutionId: outcome.queryExecutionId ?? null,
    };
    try {
      version = await opts.store.write(ledger, version);
    } catch (err) {
      const why = err instanceof CoattailError ? `${err.what}: ${err.why}` : String(err);
      throw new CoattailError(
        `${label(st)} was applied but could not be recorded`,
        why,
        `record it before the next apply (a re-run would send it again${st.migration ? ', and an ADD COLUMNS would fail as the column exists' : ''})`,
      );
    }
    applied.push(st);
    opts.onApplied(st, outcome);
  });
  return { applied, interrupted: opts.signal.aborted && applied.length < pending.length };
}
