/**
 * Where an AWS-facing command acts: the config file in force (with its environment), the profile and the
 * region, each with its source. Every command that talks to AWS resolves this first, so one rule holds
 * for all of them.
 */
import type { CommandContext } from '../core/context.js';
import { loadConfig, type LoadedConfig } from '../config/settings.js';
import { resolveProfile } from './profile.js';
import { requireRegion, resolveRegion } from './region.js';
import type { Sourced } from './sourced.js';

/** The options every AWS-facing command takes, as commander hands them over. */
export interface AwsTargetOptions {
  region?: string | undefined;
  profile?: string | undefined;
  config?: string | undefined;
  /** `--env`: the config file's environment. */
  env?: string | undefined;
}

export interface AwsTarget {
  config: LoadedConfig;
  profile?: Sourced | undefined;
  region?: Sourced | undefined;
}

/** The config file and profile; the region only when `needRegion` is false and none is found stays unset. */
export async function resolveAwsTarget(opts: AwsTargetOptions, ctx: CommandContext, needRegion = true): Promise<AwsTarget> {
  const config = loadConfig(ctx.cwd, ctx.env, { config: opts.config, env: opts.env });
  const profile = resolveProfile(opts.profile, ctx.env, config);
  const input = { flag: opts.region, profile, config };
  const region = needRegion ? await requireRegion(input, ctx.env) : await resolveRegion(input, ctx.env);
  return { config, profile, region };
}

/** Only the config file and the profile: for commands on the local emulators, which need no region. */
export function resolveLocalTarget(opts: AwsTargetOptions, ctx: CommandContext): AwsTarget {
  const config = loadConfig(ctx.cwd, ctx.env, { config: opts.config, env: opts.env });
  return { config, profile: resolveProfile(opts.profile, ctx.env, config) };
}
