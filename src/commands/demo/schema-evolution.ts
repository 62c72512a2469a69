/**
 * `coattail demo schema-evolution [--json] [--warehouse DIR]`: Iceberg schema evolution end to end, on a
 * table of its own (`crypto_pulse.schema_evolution_demo`, re-created at every run; the live tables are not
 * touched). The demo is the PySpark package's `python -m coattail_jobs schema-evolution-demo` (jobs-py/
 * coattail_jobs/batch/schema_evolution.py): it adds a column, shows old rows reading NULL and new ones the
 * value, and lists the data files before and after to show none was rewritten. Its report (text, or
 * --json) goes to stdout as it comes; the exit status is 1 when a fact it checks does not hold.
 */
import path from 'node:path';
import type { CommandContext } from '../../core/context.js';
import { ensureJobsPython, PYTHON_JOBS_ENTRY, runJobsPython } from '../../spark/python.js';

export const SCHEMA_EVOLUTION_JOB = 'schema-evolution-demo';

export interface SchemaEvolutionOptions {
  json?: boolean;
  /** The local Iceberg warehouse (COATTAIL_WAREHOUSE; default .coattail/warehouse). */
  warehouse?: string;
}

export function schemaEvolutionArgs(warehouse: string, json: boolean, entry: readonly string[] = PYTHON_JOBS_ENTRY): string[] {
  return [...entry, SCHEMA_EVOLUTION_JOB, '--warehouse', warehouse, ...(json ? ['--json'] : [])];
}

export async function schemaEvolutionDemo(opts: SchemaEvolutionOptions, ctx: CommandContext): Promise<number> {
  const warehouse = path.resolve(ctx.cwd, opts.warehouse ?? '.coattail/warehouse');
  const python = await ensureJobsPython(ctx, { spark: true });
  const args = schemaEvolutionArgs(warehouse, opts.json === true);
  ctx.logger.debug('starting the schema evolution demo', { python, args: args.join(' ') });
  const { code } = await runJobsPython(python, args, ctx, false, { spark: { command: 'schema-evolution' } });
  return code;
}
