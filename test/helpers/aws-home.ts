/**
 * A temporary home for the AWS SDK: ~/.aws/config and ~/.aws/credentials with known profiles, pointed at
 * through HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE in process.env (the SDK's credential
 * chain reads process.env), with every other source of region or credentials cleared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';
import { tempDir } from './context.js';

/** Secrets that must never appear in any output. */
export const SECRETS = { default: 'DefaultSecretKeyNeverShown0000000000000', prod: 'ProdSecretKeyNeverShown000000000000000000' };
export const KEY_IDS = { default: 'AKIADEFAULTEXAMPLE01', prod: 'AKIAPRODEXAMPLE00001', bare: 'AKIABAREEXAMPLE00001' };
/** The regions the profiles hold. */
export const PROFILE_REGIONS = { default: 'ap-south-1', prod: 'eu-west-3' };

const CLEARED = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_KINESIS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_EMR_SERVERLESS',
  'AWS_ENDPOINT_URL_ATHENA',
  'AWS_ENDPOINT_URL_STS',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'COATTAIL_CONFIG',
  'COATTAIL_ENV',
  'COATTAIL_STREAM',
  'COATTAIL_ALERTS_TABLE',
  'COATTAIL_BUCKET',
  'COATTAIL_EMR_APPLICATION_ID',
  'COATTAIL_KINESIS_ENDPOINT',
  'COATTAIL_DYNAMODB_ENDPOINT',
  'COATTAIL_S3_ENDPOINT',
  'COATTAIL_EMR_ENDPOINT',
  'COATTAIL_ATHENA_ENDPOINT',
  'COATTAIL_STS_ENDPOINT',
];

export interface AwsHome {
  home: string;
  /** A working folder inside the home, with no config file above it. */
  cwd: string;
}

/** Stubs process.env (vitest's unstubAllEnvs restores it) and returns the temporary home. */
export function useAwsHome(): AwsHome {
  const home = tempDir('aws-home');
  mkdirSync(path.join(home, '.aws'));
  writeFileSync(
    path.join(home, '.aws', 'config'),
    `[default]\nregion = ${PROFILE_REGIONS.default}\n\n[profile prod]\nregion = ${PROFILE_REGIONS.prod}\n\n[profile bare]\n`,
  );
  writeFileSync(
    path.join(home, '.aws', 'credentials'),
    [
      `[default]\naws_access_key_id = ${KEY_IDS.default}\naws_secret_access_key = ${SECRETS.default}\n`,
      `[prod]\naws_access_key_id = ${KEY_IDS.prod}\naws_secret_access_key = ${SECRETS.prod}\n`,
      `[bare]\naws_access_key_id = ${KEY_IDS.bare}\naws_secret_access_key = bare-secret\n`,
    ].join('\n'),
  );
  for (const name of CLEARED) vi.stubEnv(name, undefined);
  vi.stubEnv('HOME', home);
  vi.stubEnv('XDG_CONFIG_HOME', path.join(home, '.config'));
  vi.stubEnv('AWS_CONFIG_FILE', path.join(home, '.aws', 'config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(home, '.aws', 'credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  const cwd = path.join(home, 'work');
  mkdirSync(cwd);
  return { home, cwd };
}

/** Writes a coattail.config.json. */
export function writeConfig(dir: string, content: object): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'coattail.config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}
