/**
 * Where an AWS-facing command acts: the config file in force (with its environment), the profile and the
 * region, each with its source. Every command that talks to AWS resolves this first, so one rule holds
 * for all of them.
 */
import type { CommandContext } from '../core/context.js';
import { loadConfig, type LoadedConfig } from '../config/settings.js';
import { usageError, type CoattailError } from '../core/errors.js';
import { profileFacts, resolveProfile, sharedConfigPath, sharedCredentialsPath } from './profile.js';
import { noRegion, resolveRegion } from './region.js';
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

/**
 * How much the command needs a region: `required` (one line and exit 2 without), `optional` (a command that
 * may also run on an emulator, whose client factory decides), `inspect` (config show, doctor: only report).
 * Without a region, a profile chosen but defined nowhere is named: it is why the profile gave none.
 */
export type RegionNeed = 'required' | 'optional' | 'inspect';

/** The config file, the profile and the region, each with its source. */
export async function resolveAwsTarget(opts: AwsTargetOptions, ctx: CommandContext, need: RegionNeed = 'required'): Promise<AwsTarget> {
  const config = loadConfig(ctx.cwd, ctx.env, { config: opts.config, env: opts.env });
  const profile = resolveProfile(opts.profile, ctx.env, config);
  const region = await resolveRegion({ flag: opts.region, profile, config }, ctx.env);
  if (!region && need !== 'inspect') {
    if (profile && !(await profileFacts(profile.value, ctx.env)).defined) throw unknownProfile(profile, ctx.env);
    if (need === 'required') throw noRegion();
  }
  return { config, profile, region };
}

function unknownProfile(profile: Sourced, env: NodeJS.ProcessEnv): CoattailError {
  return usageError(
    `the AWS profile '${profile.value}' (from ${profile.source}) is not defined`,
    `neither ${sharedConfigPath(env)} nor ${sharedCredentialsPath(env)} has it`,
    `create it with aws configure --profile ${profile.value} (or aws configure sso), or choose another with --profile`,
  );
}

/** Only the config file and the profile: for commands on the local emulators, which need no region. */
export function resolveLocalTarget(opts: AwsTargetOptions, ctx: CommandContext): AwsTarget {
  const config = loadConfig(ctx.cwd, ctx.env, { config: opts.config, env: opts.env });
  return { config, profile: resolveProfile(opts.profile, ctx.env, config) };
}
