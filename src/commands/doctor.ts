/**
 * `coattail doctor`: one ✓/✗ line per check, each ✗ with its fix; exit 1 when any is ✗. `--local` checks
 * only this machine (Node, Python, Java, the jars, the emulators); otherwise the AWS side too, with the
 * settings `coattail config show` prints.
 */
import type { CommandContext } from '../core/context.js';
import type { AwsTargetOptions } from '../aws/target.js';
import { effectiveSettings } from '../config/effective.js';
import { positiveInt } from '../config/validate.js';
import { DEFAULT_CHECK_TIMEOUT_MS, skip, type CheckResult } from '../doctor/check.js';
import { checkAws, AWS_CHECKS } from '../doctor/aws.js';
import { checkEmulators, checkJava, checkNode, checkPython } from '../doctor/local.js';

export interface DoctorOptions extends AwsTargetOptions {
  json?: boolean;
  local?: boolean;
  stateDir: string;
  /** Seconds each check may take. */
  timeout?: string;
}

export async function doctor(opts: DoctorOptions, ctx: CommandContext): Promise<number> {
  const timeoutMs = opts.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : positiveInt(opts.timeout, '--timeout', 300) * 1000;
  // The settings are resolved first: a broken config file or an unknown --env is a usage error, not a ✗.
  const settings = opts.local ? undefined : await effectiveSettings(opts, ctx);
  const local = { env: ctx.env, cwd: ctx.cwd, stateDir: opts.stateDir, timeoutMs, nodeVersion: process.versions.node };
  const [python, java, emulators, aws] = await Promise.all([
    checkPython(local),
    checkJava(local),
    checkEmulators(local),
    settings ? checkAws(settings, ctx.env, timeoutMs) : Promise.resolve(AWS_CHECKS.map((c) => skip(c, '--local'))),
  ]);
  const results: CheckResult[] = [checkNode(local.nodeVersion), ...python, java, ...emulators, ...aws];
  ctx.stdout.write(opts.json ? `${JSON.stringify(results)}\n` : render(results));
  return results.every((r) => r.ok) ? 0 : 1;
}

function render(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map((r) => {
    const mark = r.skipped ? '-' : r.ok ? '✓' : '✗';
    const fix = r.ok ? '' : `\n  ${' '.repeat(width)}  fix: ${r.fix}`;
    return `${mark} ${r.check.padEnd(width)}  ${r.detail}${fix}`;
  });
  const failed = results.filter((r) => !r.ok).length;
  lines.push(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}
