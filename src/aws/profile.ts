/**
 * The AWS profile and what the shared files (~/.aws/config and ~/.aws/credentials, or AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE) say about it, read with the SDK's own loader so we agree with it.
 */
import os from 'node:os';
import path from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { fileSource, type LoadedConfig } from '../config/settings.js';
import { flagOrEnv, type Sourced } from './sourced.js';

export const DEFAULT_PROFILE = 'default';

/** The profile chosen: `--profile` / AWS_PROFILE, else the config file's `profile`; none means the SDK's default chain. */
export function resolveProfile(flag: string | undefined, env: NodeJS.ProcessEnv, config: LoadedConfig): Sourced | undefined {
  const given = flagOrEnv(flag, 'AWS_PROFILE', env);
  if (given) return given;
  const fromFile = config.settings.profile;
  return fromFile ? { value: fromFile, source: fileSource(config, 'profile') } : undefined;
}

export function sharedConfigPath(env: NodeJS.ProcessEnv): string {
  return env.AWS_CONFIG_FILE || path.join(env.HOME || os.homedir(), '.aws', 'config');
}

export function sharedCredentialsPath(env: NodeJS.ProcessEnv): string {
  return env.AWS_SHARED_CREDENTIALS_FILE || path.join(env.HOME || os.homedir(), '.aws', 'credentials');
}

/** What the shared files hold for one profile: its region, and whether it is defined at all. Keys are never returned. */
export async function profileFacts(name: string, env: NodeJS.ProcessEnv): Promise<{ region?: string; defined: boolean }> {
  const files = await loadSharedConfigFiles({
    configFilepath: sharedConfigPath(env),
    filepath: sharedCredentialsPath(env),
    // Tests (and a long-lived process) change the files; the loader otherwise keeps the first read.
    ignoreCache: true,
  });
  const config = files.configFile[name];
  const credentials = files.credentialsFile[name];
  const region = config?.region ?? credentials?.region;
  return { ...(region ? { region } : {}), defined: config !== undefined || credentials !== undefined };
}
