/**
 * The one region rule, for every command and client: `--region` → AWS_REGION → AWS_DEFAULT_REGION → the
 * profile's region (~/.aws/config) → the config file's `region`. There is no silent default: with none,
 * the command stops with one line saying how to set one.
 */
import { fileSource, type LoadedConfig } from '../config/settings.js';
import { checkRegion } from '../config/validate.js';
import { usageError, type CoattailError } from '../core/errors.js';
import { DEFAULT_PROFILE, profileFacts } from './profile.js';
import { flagOrEnv, type Sourced } from './sourced.js';

/**
 * The region the local emulators are addressed in. They accept any, so `--local`, the demo and a loopback
 * endpoint signed with stand-in credentials keep this fixed one rather than asking for a region.
 */
export const LOCAL_REGION = 'us-east-1';

export interface RegionInput {
  /** `--region` as commander gives it (it may hold AWS_REGION's value). */
  flag?: string | undefined;
  /** The profile chosen; none means the `default` profile, as for the SDK. */
  profile?: Sourced | undefined;
  config?: LoadedConfig | undefined;
}

export async function resolveRegion(input: RegionInput, env: NodeJS.ProcessEnv): Promise<Sourced | undefined> {
  const found =
    flagOrEnv(input.flag, 'AWS_REGION', env) ?? flagOrEnv(undefined, 'AWS_DEFAULT_REGION', env) ?? (await fromProfile(input, env));
  const fromFile = input.config?.settings.region;
  const region = found ?? (fromFile && input.config ? { value: fromFile, source: fileSource(input.config, 'region') } : undefined);
  if (region?.source === 'flag') checkRegion(region.value);
  else if (region && !isRegion(region.value))
    throw usageError(
      `the region '${region.value}' from ${region.source} is not valid`,
      'an AWS region looks like eu-west-1',
      'correct it there, or pass --region',
    );
  return region;
}

function isRegion(value: string): boolean {
  try {
    checkRegion(value);
    return true;
  } catch {
    return false;
  }
}

async function fromProfile(input: RegionInput, env: NodeJS.ProcessEnv): Promise<Sourced | undefined> {
  const name = input.profile?.value ?? DEFAULT_PROFILE;
  const { region } = await profileFacts(name, env);
  return region ? { value: region, source: `profile (${name})` } : undefined;
}

export function noRegion(): CoattailError {
  return usageError(
    'no AWS region',
    'none is given by --region, AWS_REGION, AWS_DEFAULT_REGION, the AWS profile or "region" in coattail.config.json',
    'pass --region (e.g. --region eu-west-1; add --save-config to remember it), or set region in the profile with aws configure',
  );
}
