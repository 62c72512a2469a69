/**
 * `coattail ddl apply`: the Iceberg tables of ddl/ (and the migrations of ddl/migrations/) through Athena,
 * one statement per query, each polled to its end and recorded in a ledger so a change is applied once:
 * re-running is a no-op. `--dry-run` prints the plan; `--local` applies the same DDL to the local Iceberg
 * warehouse through Spark SQL.
 */
import path from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CommandContext } from '../core/context.js';
import { bucketLayout } from '../config/layout.js';
import { loadConfig, pick, required } from '../config/settings.js';
import { checkBucket, checkS3Uri, checkWorkGroup } from '../config/validate.js';
import { resolveAwsTarget } from '../aws/target.js';
import { applyPending, athenaEngine, type Engine } from '../athena/apply.js';
import { createAthenaClient } from '../aws/athena.js';
import { localEngine } from '../athena/local.js';
import { FileLedgerStore, S3LedgerStore, statusOf, type LedgerStore, type PlanStatus } from '../athena/ledger.js';
import { planDdl } from '../athena/plan.js';
import { createS3Client } from '../aws/clients.js';
import { sleep as realSleep, type Sleep } from '../spark/emr/sleep.js';
import { saveSettings, type AwsOptions } from '../spark/emr/settings.js';
import { packageRoot } from '../core/dirs.js';
import { ensureJobsPython } from '../spark/python.js';

export interface DdlOptions extends AwsOptions {
  bucket?: string;
  workGroup?: string;
  outputLocation?: string;
  ddlDir?: string;
  dryRun?: boolean;
  local?: boolean;
  warehouse?: string;
}

export interface DdlDeps {
  athena?: AthenaClient;
  s3?: S3Client;
  sleep?: Sleep;
  pollMs?: number;
  root?: string;
}

export const DEFAULT_WORK_GROUP = 'primary';
export const DEFAULT_POLL_MS = 1_000;
/** The local ledger sits inside the warehouse it describes: deleting the warehouse forgets it too. */
export const LOCAL_LEDGER = '.coattail-ddl-applied.json';
/** Stands in for the bucket locally, where Spark's Hadoop catalog places the tables and LOCATION is dropped. */
const LOCAL_BUCKET = 'local-warehouse';

function printPlan(statuses: PlanStatus[], store: LedgerStore, ctx: CommandContext, json: boolean): void {
  if (json) {
    const statements = statuses.map(({ statement: st, applied }) => ({
      file: st.file,
      key: st.key,
      sha256: st.sha256,
      kind: st.kind,
      table: st.table ? `${st.database}.${st.table}` : null,
      status: applied ? 'applied' : 'pending',
      appliedAt: applied?.appliedAt ?? null,
      sql: st.sql,
    }));
    ctx.stdout.write(`${JSON.stringify({ ledger: store.location, statements })}\n`);
    return;
  }
  const pending = statuses.filter((s) => !s.applied).length;
  const lines = [
    `-- ddl apply plan: ${statuses.length} statement(s), ${pending} to apply, ${statuses.length - pending} applied before (ledger ${store.location})`,
  ];
  for (const { statement: st, applied } of statuses) {
    if (applied) lines.push(`-- ${st.file}: applied ${applied.appliedAt}, skipped`);
    else lines.push(`-- ${st.file}: to apply`, `${st.sql};`);
  }
  ctx.stdout.write(`${lines.join('\n')}\n`);
}

export async function ddlApply(opts: DdlOptions, ctx: CommandContext, deps: DdlDeps = {}): Promise<number> {
  const root = deps.root ?? packageRoot();
  const ddlDir = path.resolve(ctx.cwd, opts.ddlDir ?? path.join(root, 'ddl'));

  let store: LedgerStore;
  let engine: () => Engine;
  let bucket: string;
  if (opts.local) {
    // The file is still read, so a broken one or an unknown --env fails here as it does everywhere.
    loadConfig(ctx.cwd, ctx.env, { config: opts.config, env: opts.env });
    bucket = LOCAL_BUCKET;
    const warehouse = path.resolve(ctx.cwd, opts.warehouse ?? '.coattail/warehouse');
    store = new FileLedgerStore(path.join(warehouse, LOCAL_LEDGER));
    const python = await ensureJobsPython(ctx, { root, spark: true });
    engine = () => localEngine(python, warehouse, ctx);
  } else {
    const target = await resolveAwsTarget(opts, ctx);
    const saved = target.config.settings;
    const place = { region: target.region!.value, profile: target.profile?.value };
    bucket = checkBucket(required(pick(opts.bucket, saved, 'bucket'), '--bucket', 'COATTAIL_BUCKET', 'bucket'));
    const workGroup = checkWorkGroup(pick(opts.workGroup, saved, 'workGroup', DEFAULT_WORK_GROUP)!);
    const layout = bucketLayout(bucket);
    const outputLocation = pick(opts.outputLocation, saved, 'athenaOutput', layout.athenaOutput)!;
    checkS3Uri(outputLocation, '--output-location');
    // What was given, not the defaults, so a later default change still applies.
    if (opts.saveConfig)
      saveSettings(ctx, target.config, {
        region: opts.region,
        profile: opts.profile,
        bucket: opts.bucket,
        workGroup: opts.workGroup,
        athenaOutput: opts.outputLocation,
      });
    const s3 = deps.s3 ?? createS3Client(place, ctx.env);
    store = new S3LedgerStore(s3, bucket, layout.ledgerKey, ctx.env);
    engine = () =>
      athenaEngine(
        deps.athena ?? createAthenaClient(place, ctx.env),
        { workGroup, outputLocation },
        { sleep: deps.sleep ?? realSleep, pollMs: deps.pollMs ?? DEFAULT_POLL_MS, env: ctx.env },
        ctx.signal,
      );
  }

  const plan = planDdl(ddlDir, bucket);
  const { ledger, version } = await store.read();
  const statuses = statusOf(plan, ledger);
  if (opts.dryRun) {
    printPlan(statuses, store, ctx, opts.json === true);
    return 0;
  }
  const pending = statuses.filter((s) => !s.applied).map((s) => s.statement);
  const skipped = statuses.length - pending.length;
  if (pending.length === 0) {
    ctx.stderr.write(`ddl apply: nothing to do; all ${statuses.length} statement(s) are applied (ledger ${store.location})\n`);
    if (opts.json) ctx.stdout.write(`${JSON.stringify({ applied: [], skipped, ledger: store.location })}\n`);
    return 0;
  }
  let last = ctx.clock.now();
  const report = await applyPending(pending, engine(), {
    store,
    ledger,
    version,
    now: () => ctx.clock.now(),
    signal: ctx.signal,
    onApplied: (st, outcome) => {
      const now = ctx.clock.now();
      const where = st.table ? ` ${st.database}.${st.table}` : ` database ${st.database}`;
      const query = outcome.queryExecutionId ? `, query ${outcome.queryExecutionId}` : '';
      ctx.stderr.write(`applied ${st.file}:${where} (${((now - last) / 1000).toFixed(1)} s${query})\n`);
      last = now;
    },
  });
  ctx.stderr.write(`ddl apply: ${report.applied.length} applied, ${skipped} already applied (ledger ${store.location})\n`);
  if (opts.json) ctx.stdout.write(`${JSON.stringify({ applied: report.applied.map((s) => s.key), skipped, ledger: store.location })}\n`);
  if (report.interrupted) {
    ctx.stderr.write(`ddl apply: interrupted; ${pending.length - report.applied.length} statement(s) left for the next run\n`);
    return 130;
  }
  return 0;
}
