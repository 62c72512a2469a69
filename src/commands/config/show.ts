/** `coattail config show`: every setting in force, its value and where it came from; never a secret. */
import type { CommandContext } from '../../core/context.js';
import type { AwsTargetOptions } from '../../aws/target.js';
import { effectiveSettings, type SettingRow } from '../../config/effective.js';

export interface ConfigShowOptions extends AwsTargetOptions {
  json?: boolean;
}

export async function configShow(opts: ConfigShowOptions, ctx: CommandContext): Promise<number> {
  const { rows } = await effectiveSettings(opts, ctx);
  ctx.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : table(rows));
  return 0;
}

function table(rows: SettingRow[]): string {
  const shown = rows.map((r) => [r.setting, r.value ?? '-', r.source] as const);
  const w0 = Math.max('SETTING'.length, ...shown.map((r) => r[0].length));
  const w1 = Math.max('VALUE'.length, ...shown.map((r) => r[1].length));
  const line = (a: string, b: string, c: string): string => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd();
  return `${[line('SETTING', 'VALUE', 'SOURCE'), ...shown.map(([a, b, c]) => line(a, b, c))].join('\n')}\n`;
}
