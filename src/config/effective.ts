/**
 * Every setting in force and where it came from, for `coattail config show` and `coattail doctor`: the same
 * rules the commands use (src/aws/target.ts, region.ts, endpoint.ts, the config file). Never a secret:
 * credentials appear only as where they would come from.
 */
import type { CommandContext } from '../core/context.js';
import { DEFAULT_PROFILE, profileFacts, sharedConfigPath, sharedCredentialsPath } from '../aws/profile.js';
import { resolveAwsTarget, type AwsTarget, type AwsTargetOptions } from '../aws/target.js';
import { resolveEndpoint, SERVICE_ENDPOINTS, type AwsService } from '../aws/endpoint.js';
import { flagOrEnv, type Sourced } from '../aws/sourced.js';
import { fileSource, type LoadedConfig, type SettingName } from './settings.js';

export interface SettingRow {
  setting: string;
  /** null when unset. */
  value: string | null;
  source: string;
}

/** The file-backed settings, with the environment variable that sets each and the default, if any. */
const FILE_SETTINGS: Array<{ name: SettingName; variable?: string; fallback?: string }> = [
  { name: 'bucket', variable: 'COATTAIL_BUCKET' },
  { name: 'applicationId', variable: 'COATTAIL_EMR_APPLICATION_ID' },
  { name: 'executionRoleArn', variable: 'COATTAIL_EMR_ROLE_ARN' },
  { name: 'logGroup', variable: 'COATTAIL_EMR_LOG_GROUP' },
  { name: 'workGroup', variable: 'COATTAIL_ATHENA_WORKGROUP', fallback: 'primary' },
  { name: 'athenaOutput', variable: 'COATTAIL_ATHENA_OUTPUT' },
  { name: 'stream', variable: 'COATTAIL_STREAM', fallback: 'coattail-trades' },
  { name: 'alertsTable', variable: 'COATTAIL_ALERTS_TABLE', fallback: 'coattail-alerts' },
];

export interface EffectiveSettings {
  target: AwsTarget;
  rows: SettingRow[];
  /** A file-backed setting's value in force (the variable, the file, the default). */
  value(name: SettingName): string | undefined;
  credentials: string;
}

export async function effectiveSettings(opts: AwsTargetOptions, ctx: CommandContext): Promise<EffectiveSettings> {
  const target = await resolveAwsTarget(opts, ctx, 'inspect');
  const { config } = target;
  const values = new Map<SettingName, Sourced>();
  for (const { name, variable, fallback } of FILE_SETTINGS) {
    const fromFile = config.settings[name];
    const found =
      (variable ? flagOrEnv(undefined, variable, ctx.env) : undefined) ??
      (fromFile !== undefined ? { value: fromFile, source: fileSource(config, name) } : undefined) ??
      (fallback !== undefined ? { value: fallback, source: 'default' } : undefined);
    if (found) values.set(name, found);
  }
  const credentials = await credentialSource(target, ctx.env);
  const rows: SettingRow[] = [
    { setting: 'config file', value: config.exists ? config.path : null, source: configFileSource(config, opts, ctx) },
    row('env', flagOrEnv(opts.env, 'COATTAIL_ENV', ctx.env)),
    row('profile', target.profile),
    row('region', target.region),
    { setting: 'credentials', value: null, source: credentials },
    ...FILE_SETTINGS.map(({ name }) => row(name, values.get(name))),
    ...(Object.keys(SERVICE_ENDPOINTS) as AwsService[]).map((service) =>
      row(`endpoint ${service}`, resolveEndpoint(service, undefined, ctx.env), 'unset (AWS)'),
    ),
  ];
  return { target, rows, value: (name) => values.get(name)?.value, credentials };
}

function row(setting: string, found: Sourced | undefined, unset = 'unset'): SettingRow {
  return found ? { setting, value: found.value, source: found.source } : { setting, value: null, source: unset };
}

function configFileSource(config: LoadedConfig, opts: AwsTargetOptions, ctx: CommandContext): string {
  switch (config.how) {
    case 'explicit':
      return `${flagOrEnv(opts.config, 'COATTAIL_CONFIG', ctx.env)?.source ?? 'flag'}${config.exists ? '' : ' (missing: --save-config creates it)'}`;
    case 'search':
      return `found upwards from ${ctx.cwd}`;
    case 'user':
      return 'the per-user config folder';
    case 'none':
      return `none (--save-config creates ${config.path})`;
  }
}

/** Where the SDK's chain would take credentials from, named, never shown. */
async function credentialSource(target: AwsTarget, env: NodeJS.ProcessEnv): Promise<string> {
  if (target.profile) {
    const { defined } = await profileFacts(target.profile.value, env);
    return defined
      ? `profile (${target.profile.value})`
      : `profile (${target.profile.value}): not in ${sharedConfigPath(env)} or ${sharedCredentialsPath(env)}`;
  }
  if (env.AWS_ACCESS_KEY_ID) return 'env (AWS_ACCESS_KEY_ID)';
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'web identity (AWS_WEB_IDENTITY_TOKEN_FILE)';
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return 'container (ECS task role)';
  if ((await profileFacts(DEFAULT_PROFILE, env)).defined) return `profile (${DEFAULT_PROFILE})`;
  return 'none found (else the instance role, if any)';
}
