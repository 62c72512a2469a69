/**
 * The one region rule (--region → AWS_REGION → AWS_DEFAULT_REGION → the profile's region → the config
 * file), the profile, and what the clients built with them really resolve, from a temporary ~/.aws.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveAwsTarget } from '../../src/aws/target.js';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import { createAthenaClient } from '../../src/aws/athena.js';
import { createEmrClient, createS3Client, createStsClient } from '../../src/aws/clients.js';
import { CoattailError } from '../../src/core/errors.js';
import { testContext } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';
import { KEY_IDS, PROFILE_REGIONS, SECRETS, useAwsHome, writeConfig } from '../helpers/aws-home.js';
import { vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
});

interface Case {
  name: string;
  flag?: string;
  AWS_REGION?: string;
  AWS_DEFAULT_REGION?: string;
  profile?: string;
  file?: string;
  expected: { value: string; source: string } | 'none';
}

const FLAG = 'us-west-1';
const ENV_REGION = 'us-west-2';
const DEFAULT_REGION = 'ca-central-1';
const FILE_REGION = 'sa-east-1';

describe('the region rule, case by case', () => {
  const cases: Case[] = [
    {
      name: 'the flag over everything',
      flag: FLAG,
      AWS_REGION: ENV_REGION,
      AWS_DEFAULT_REGION: DEFAULT_REGION,
      profile: 'prod',
      file: FILE_REGION,
      expected: { value: FLAG, source: 'flag' },
    },
    {
      name: 'AWS_REGION over AWS_DEFAULT_REGION, the profile and the file',
      AWS_REGION: ENV_REGION,
      AWS_DEFAULT_REGION: DEFAULT_REGION,
      profile: 'prod',
      file: FILE_REGION,
      expected: { value: ENV_REGION, source: 'env (AWS_REGION)' },
    },
    {
      name: 'AWS_DEFAULT_REGION over the profile and the file',
      AWS_DEFAULT_REGION: DEFAULT_REGION,
      profile: 'prod',
      file: FILE_REGION,
      expected: { value: DEFAULT_REGION, source: 'env (AWS_DEFAULT_REGION)' },
    },
    {
      name: "the chosen profile's region over the file",
      profile: 'prod',
      file: FILE_REGION,
      expected: { value: PROFILE_REGIONS.prod, source: 'profile (prod)' },
    },
    {
      name: "the default profile's region when no profile is chosen",
      file: FILE_REGION,
      expected: { value: PROFILE_REGIONS.default, source: 'profile (default)' },
    },
    {
      name: 'the file when the profile has no region',
      profile: 'bare',
      file: FILE_REGION,
      expected: { value: FILE_REGION, source: 'file (CONFIG)' },
    },
    { name: 'none at all', profile: 'bare', expected: 'none' },
  ];

  it.each(cases)('$name', async (c) => {
    const { cwd } = useAwsHome();
    const config = c.file ? writeConfig(cwd, { region: c.file }) : undefined;
    const ctx = testContext({
      cwd,
      env: {
        ...process.env,
        ...(c.AWS_REGION ? { AWS_REGION: c.AWS_REGION } : {}),
        ...(c.AWS_DEFAULT_REGION ? { AWS_DEFAULT_REGION: c.AWS_DEFAULT_REGION } : {}),
      },
    });
    // commander fills --region from AWS_REGION: the handler then sees that value as the flag's.
    const flag = c.flag ?? c.AWS_REGION;
    const target = resolveAwsTarget({ region: flag, profile: c.profile }, ctx);
    if (c.expected === 'none') {
      const err = await target.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CoattailError);
      expect((err as CoattailError).exitCode).toBe(2);
      expect((err as CoattailError).line()).toBe(
        'coattail: no AWS region: none is given by --region, AWS_REGION, AWS_DEFAULT_REGION, the AWS profile or "region" in coattail.config.json. Pass --region (e.g. --region eu-west-1; add --save-config to remember it), or set region in the profile with aws configure',
      );
      return;
    }
    const expected = { ...c.expected, source: c.expected.source.replace('CONFIG', config ?? '') };
    expect((await target).region).toEqual(expected);
  });

  it('the profile may come from the config file, and its region then applies', async () => {
    const { cwd } = useAwsHome();
    const file = writeConfig(cwd, { profile: 'prod', region: FILE_REGION });
    const target = await resolveAwsTarget({}, testContext({ cwd, env: { ...process.env } }));
    expect(target.profile).toEqual({ value: 'prod', source: `file (${file})` });
    expect(target.region).toEqual({ value: PROFILE_REGIONS.prod, source: 'profile (prod)' });
  });

  it('AWS_PROFILE chooses the profile, and AWS_CONFIG_FILE is where it is read', async () => {
    const { cwd, home } = useAwsHome();
    vi.stubEnv('AWS_CONFIG_FILE', path.join(home, 'elsewhere'));
    const elsewhere = await resolveAwsTarget(
      { profile: 'prod' },
      testContext({ cwd, env: { ...process.env, AWS_PROFILE: 'prod' } }),
      'optional',
    );
    expect(elsewhere.profile).toEqual({ value: 'prod', source: 'env (AWS_PROFILE)' });
    expect(elsewhere.region).toBeUndefined();
  });

  it('a profile defined nowhere, with no region: one line naming it and where it came from, rather than "no region"', async () => {
    const { cwd, home } = useAwsHome();
    const err = await resolveAwsTarget({ profile: 'prdo' }, testContext({ cwd, env: { ...process.env } }), 'optional').catch(
      (e: unknown) => e,
    );
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toBe(
      `coattail: the AWS profile 'prdo' (from flag) is not defined: neither ${path.join(home, '.aws', 'config')} nor ${path.join(home, '.aws', 'credentials')} has it. Create it with aws configure --profile prdo (or aws configure sso), or choose another with --profile`,
    );
    // Only reported by config show and doctor.
    expect((await resolveAwsTarget({ profile: 'prdo' }, testContext({ cwd, env: { ...process.env } }), 'inspect')).region).toBeUndefined();
  });

  it("a profile's region that is not one is refused naming where it came from", async () => {
    const { cwd } = useAwsHome();
    const file = writeConfig(cwd, { region: 'Europe' });
    const err = await resolveAwsTarget({ profile: 'bare' }, testContext({ cwd, env: { ...process.env } })).catch((e: unknown) => e);
    expect((err as CoattailError).line()).toBe(
      `coattail: the region 'Europe' from file (${file}) is not valid: an AWS region looks like eu-west-1. Correct it there, or pass --region`,
    );
  });

  it('a region that is not one is refused in one line', async () => {
    const { cwd } = useAwsHome();
    const err = await resolveAwsTarget({ region: 'mars' }, testContext({ cwd, env: { ...process.env } })).catch((e: unknown) => e);
    expect((err as CoattailError).line()).toMatch(/^coattail: --region 'mars' is not valid/);
  });
});

describe("every client factory: the region and the credentials of the target's profile", () => {
  const FACTORIES = [
    ['kinesis', createKinesisClient],
    ['dynamodb', createDynamoClient],
    ['athena', createAthenaClient],
    ['emr-serverless', createEmrClient],
    ['s3', createS3Client],
    ['sts', createStsClient],
  ] as const;

  it.each(FACTORIES)('%s signs with --profile prod and its region', async (_name, create) => {
    const { cwd } = useAwsHome();
    const target = await resolveAwsTarget({ profile: 'prod' }, testContext({ cwd, env: { ...process.env } }));
    const client = create({ region: target.region!.value, profile: target.profile!.value }, process.env);
    try {
      expect(await client.config.region()).toBe(PROFILE_REGIONS.prod);
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: KEY_IDS.prod, secretAccessKey: SECRETS.prod });
    } finally {
      client.destroy();
    }
  });

  it.each(FACTORIES)('%s with no profile: the default one, and AWS_REGION over its region', async (_name, create) => {
    const { cwd } = useAwsHome();
    vi.stubEnv('AWS_REGION', 'eu-north-1');
    const target = await resolveAwsTarget({ region: 'eu-north-1' }, testContext({ cwd, env: { ...process.env } }));
    const client = create({ region: target.region!.value, profile: target.profile?.value }, process.env);
    try {
      expect(await client.config.region()).toBe('eu-north-1');
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: KEY_IDS.default });
    } finally {
      client.destroy();
    }
  });

  it.each(FACTORIES)('%s without a region for AWS is refused in one line, never us-east-1', (_name, create) => {
    useAwsHome();
    expect(() => create({}, process.env)).toThrow(/^no AWS region: /);
  });

  it('the local emulators keep their fixed region and stand-in credentials', async () => {
    useAwsHome();
    const client = createKinesisClient({ endpoint: 'http://127.0.0.1:4568', local: true }, process.env);
    expect(await client.config.region()).toBe('us-east-1');
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'local' });
    client.destroy();
  });
});

describe('through the binary', () => {
  it.each([['tail'], ['watch', 'whales'], ['ingest', '--max-trades', '1'], ['jobs', 'list', '--application-id', '00fabc']])(
    'coattail %s with no region anywhere: one line on stderr, exit 2, nothing on stdout',
    (...args) => {
      const { cwd } = useAwsHome();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        AWS_CONFIG_FILE: path.join(cwd, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, 'none'),
      };
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^coattail: no AWS region: .+ Pass --region/)]);
    },
  );
});
