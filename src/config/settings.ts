/**
 * The config file: settings that every AWS-facing command shares. Commands take (in this order) flags,
 * environment variables, the file, then defaults; commander has already merged a flag with its variable.
 * The file in use is `--config FILE` / COATTAIL_CONFIG, else the nearest `coattail.config.json` from the
 * working folder upwards (as git and eslint find theirs), else the per-user one (~/.config/coattail/).
 * `"environments": {"prod": {...}}` holds named sets whose keys override the top-level ones (`--env prod`).
 * The file never holds credentials: its schema has no place for them and refuses unknown keys.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';
import { userConfigDir } from '../core/dirs.js';

export const CONFIG_FILE = 'coattail.config.json';

const SettingsSchema = z
  .object({
    region: z.string(),
    /** The AWS profile (~/.aws/config) to sign with: its name only, never its keys. */
    profile: z.string(),
    bucket: z.string(),
    applicationId: z.string(),
    executionRoleArn: z.string(),
    logGroup: z.string(),
    workGroup: z.string(),
    athenaOutput: z.string(),
    stream: z.string(),
    alertsTable: z.string(),
  })
  .partial()
  .strict();

const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const ConfigFileSchema = SettingsSchema.extend({
  environments: z.record(z.string().regex(ENV_NAME, 'an environment name is letters, digits, _ . and -'), SettingsSchema),
})
  .partial()
  .strict();

export type FileSettings = z.infer<typeof SettingsSchema>;
export type ConfigFile = z.infer<typeof ConfigFileSchema>;
export type SettingName = keyof FileSettings;
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as SettingName[];

/** The config file in force: where it is (or would be created), whether it exists, the environment chosen. */
export interface LoadedConfig {
  path: string;
  exists: boolean;
  /** How it was found: `--config`, COATTAIL_CONFIG, searched upwards, the per-user folder, or none (the one --save-config creates). */
  how: 'explicit' | 'search' | 'user' | 'none';
  envName?: string | undefined;
  /** The top-level settings with the environment's over them. */
  settings: FileSettings;
  /** Which of them the environment gave. */
  envKeys: SettingName[];
}

export interface ConfigChoice {
  /** `--config`/COATTAIL_CONFIG. */
  config?: string | undefined;
  /** `--env`/COATTAIL_ENV. */
  env?: string | undefined;
}

/** The file in use: the explicit one, else the nearest coattail.config.json upwards, else the per-user one. */
export function findConfigFile(
  cwd: string,
  env: NodeJS.ProcessEnv,
  explicit: string | undefined,
): Omit<LoadedConfig, 'settings' | 'envName' | 'envKeys'> {
  if (explicit !== undefined && explicit !== '') {
    const file = path.resolve(cwd, explicit);
    return { path: file, exists: existsSync(file), how: 'explicit' };
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, CONFIG_FILE);
    if (existsSync(file)) return { path: file, exists: true, how: 'search' };
    if (path.dirname(dir) === dir) break;
  }
  const user = path.join(userConfigDir(env), CONFIG_FILE);
  if (existsSync(user)) return { path: user, exists: true, how: 'user' };
  return { path: path.resolve(cwd, CONFIG_FILE), exists: false, how: 'none' };
}

/** The settings in force from the config file, with `--env`'s environment applied. */
export function loadConfig(cwd: string, env: NodeJS.ProcessEnv, choice: ConfigChoice): LoadedConfig {
  const found = findConfigFile(cwd, env, choice.config);
  const file = found.exists ? readConfigFile(found.path) : {};
  const { environments = {}, ...top } = file;
  const envName = choice.env === '' ? undefined : choice.env;
  if (envName === undefined) return { ...found, settings: top, envKeys: [] };
  const chosen = environments[envName];
  if (!chosen) {
    const known = Object.keys(environments);
    throw usageError(
      `--env '${envName}' is not an environment of ${found.exists ? found.path : 'any config file'}`,
      known.length > 0 ? `the environments there are ${known.join(', ')}` : 'it defines no "environments"',
      `pass one of those, or add "environments": {"${envName}": {...}} to the file`,
    );
  }
  return { ...found, envName, settings: { ...top, ...chosen }, envKeys: Object.keys(chosen) as SettingName[] };
}

/** Where a setting came from, as `config show` prints it: `file (path)` or `file (path, env prod)`. */
export function fileSource(config: LoadedConfig, name?: SettingName): string {
  const inEnv = config.envName !== undefined && (name === undefined || config.envKeys.includes(name));
  return `file (${config.path}${inEnv ? `, env ${config.envName}` : ''})`;
}

/** The file's content; none when it does not exist. A file that does not parse is an error. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CoattailError(`cannot read ${file}`, errorMessage(err), 'check its permissions');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw usageError(`${file} is not JSON`, errorMessage(err), 'fix it or delete it (--save-config writes a new one)');
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `'${issue.path.join('.')}': ` : '';
    throw usageError(
      `${file} is not a coattail config`,
      `${where}${issue?.message ?? 'unexpected content'}`,
      `keep only ${SETTING_NAMES.join(', ')} and environments (strings; never credentials)`,
    );
  }
  return parsed.data;
}

/**
 * Merges `settings` into the file, or into its environment `envName` (keys sorted, written whole through
 * a rename so a reader never sees half). Returns what the file (or environment) now holds.
 */
export function saveConfigFile(file: string, settings: FileSettings, envName?: string): FileSettings {
  const current = readConfigFile(file);
  const given = definedOnly(settings);
  let next: ConfigFile;
  let saved: FileSettings;
  if (envName === undefined) {
    saved = sortKeys({ ...withoutEnvironments(current), ...given });
    next = { ...saved, ...(current.environments ? { environments: current.environments } : {}) };
  } else {
    saved = sortKeys({ ...current.environments?.[envName], ...given });
    next = { ...withoutEnvironments(current), environments: sortKeys({ ...current.environments, [envName]: saved }) };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, file);
  return saved;
}

function withoutEnvironments(file: ConfigFile): FileSettings {
  const { environments: _e, ...top } = file;
  return top;
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))) as T;
}

export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** A flag's (or its environment variable's) value, else the file's, else the default. */
export function pick(fromFlag: string | undefined, file: FileSettings, name: SettingName, fallback?: string): string | undefined {
  if (fromFlag !== undefined && fromFlag !== '') return fromFlag;
  return file[name] ?? fallback;
}

/** A required setting, or a usage error naming the flag, the variable and the file key that would give it. */
export function required(value: string | undefined, flag: string, env: string, key: SettingName): string {
  if (value !== undefined && value !== '') return value;
  throw usageError(
    `${flag} is missing`,
    `it is not given as a flag, in ${env}, or as "${key}" in ${CONFIG_FILE}`,
    `pass ${flag} (add --save-config to remember it)`,
  );
}
