/**
 * Settings that every AWS-facing command shares, from (in this order) flags, environment variables, the
 * config file, then defaults. commander has already merged a flag with its environment variable; this adds
 * the config file (`coattail.config.json` in the working folder, or `--config FILE` / COATTAIL_CONFIG) and
 * `--save-config`, which writes the settings in force back to it. The file never holds credentials: its
 * schema has no place for them and refuses unknown keys.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';

export const CONFIG_FILE = 'coattail.config.json';

export const ConfigFileSchema = z
  .object({
    region: z.string(),
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

export type FileSettings = z.infer<typeof ConfigFileSchema>;
export type SettingName = keyof FileSettings;

/** The config file in use: `--config`/COATTAIL_CONFIG, else coattail.config.json in the working folder. */
export function configPath(cwd: string, explicit: string | undefined): string {
  return path.resolve(cwd, explicit ?? CONFIG_FILE);
}

/** The file's settings; none when it does not exist. A file that does not parse is an error. */
export function readConfigFile(file: string): FileSettings {
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
      `keep only ${Object.keys(ConfigFileSchema.shape).join(', ')} (strings; never credentials)`,
    );
  }
  return parsed.data;
}

/** Merges `settings` into the file (keys sorted, written whole through a rename so a reader never sees half). */
export function saveConfigFile(file: string, settings: FileSettings): FileSettings {
  const merged = { ...readConfigFile(file), ...definedOnly(settings) };
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(tmp, file);
  return sorted;
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
