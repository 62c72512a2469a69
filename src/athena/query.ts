/** One statement through Athena: StartQueryExecution, then GetQueryExecution until a terminal state. */
import { GetQueryExecutionCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { awsFailure } from '../aws/errors.js';
import type { Sleep } from '../spark/emr/sleep.js';

export interface QueryTarget {
  workGroup: string;
  outputLocation: string;
}

export interface QueryOutcome {
  queryExecutionId: string;
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  /** Athena's reason when it did not succeed. */
  reason?: string | undefined;
}

export interface PollOptions {
  sleep: Sleep;
  pollMs: number;
  env: NodeJS.ProcessEnv;
}

export async function runQuery(athena: AthenaClient, sql: string, target: QueryTarget, opts: PollOptions): Promise<QueryOutcome> {
  let id: string;
  try {
    const started = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: target.workGroup,
        ResultConfiguration: { OutputLocation: target.outputLocation },
      }),
    );
    if (!started.QueryExecutionId) throw new Error('StartQueryExecution answered without a query execution id');
    id = started.QueryExecutionId;
  } catch (err) {
    throw awsFailure(err, `Athena refused the statement (work group ${target.workGroup})`, opts.env);
  }
  // A DDL statement takes seconds; it is let finish even when the user interrupts, so its outcome is known.
  for (;;) {
    let status;
    try {
      status = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution?.Status;
    } catch (err) {
      throw awsFailure(err, `cannot read the state of Athena query ${id}`, opts.env);
    }
    const state = status?.State;
    if (state === 'SUCCEEDED') return { queryExecutionId: id, state };
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? 'Athena gave no reason';
      return { queryExecutionId: id, state, reason: reason.split('\n')[0]! };
    }
    await opts.sleep(opts.pollMs);
  }
}
