/** `coattail config show`: each setting's value and source, as text and --json; never a secret. */
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, type Actions } from '../../../src/cli.js';
import { configShow } from '../../../src/commands/config/show.js';
import { testContext } from '../../helpers/context.js';
import { KEY_IDS, PROFILE_REGIONS, SECRETS, useAwsHome, writeConfig } from '../../helpers/aws-home.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

interface Row {
  setting: string;
  value: string | null;
  source: string;
}

async function show(
  opts: Record<string, unknown>,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ text: string; rows: Row[] }> {
  const text = testContext({ cwd, env: { ...env } });
  expect(await configShow(opts, text)).toBe(0);
  const json = testContext({ cwd, env: { ...env } });
  expect(await configShow({ ...opts, json: true }, json)).toBe(0);
  return { text: text.out.text(), rows: JSON.parse(json.out.text()) as Row[] };
}

const byName = (rows: Row[]): Record<string, { value: string | null; source: string }> =>
  Object.fromEntries(rows.map((r) => [r.setting, { value: r.value, source: r.source }]));

describe('config show', () => {
  it('each setting with where it came from: flag, env, file (with its environment), profile, default, unset', async () => {
    const { home, cwd } = useAwsHome();
    const file = writeConfig(home, {
      stream: 'top-stream',
      bucket: 'top-bucket',
      environments: { prod: { bucket: 'prod-bucket', applicationId: '00fprodapp' } },
    });
    const env = {
      ...process.env,
      COATTAIL_ALERTS_TABLE: 'alerts-from-env',
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4568',
      AWS_PROFILE: 'prod',
    };
    const { rows, text } = await show({ env: 'prod', profile: 'prod' }, path.join(cwd), env);
    const s = byName(rows);
    expect(s['config file']).toEqual({ value: file, source: `found upwards from ${cwd}` });
    expect(s.env).toEqual({ value: 'prod', source: 'flag' });
    expect(s.profile).toEqual({ value: 'prod', source: 'env (AWS_PROFILE)' });
    expect(s.region).toEqual({ value: PROFILE_REGIONS.prod, source: 'profile (prod)' });
    expect(s.credentials).toEqual({ value: null, source: 'profile (prod)' });
    expect(s.bucket).toEqual({ value: 'prod-bucket', source: `file (${file}, env prod)` });
    expect(s.applicationId).toEqual({ value: '00fprodapp', source: `file (${file}, env prod)` });
    expect(s.stream).toEqual({ value: 'top-stream', source: `file (${file})` });
    expect(s.alertsTable).toEqual({ value: 'alerts-from-env', source: 'env (COATTAIL_ALERTS_TABLE)' });
    expect(s.workGroup).toEqual({ value: 'primary', source: 'default' });
    expect(s.executionRoleArn).toEqual({ value: null, source: 'unset' });
    expect(s['endpoint kinesis']).toEqual({ value: 'http://127.0.0.1:4568', source: 'env (AWS_ENDPOINT_URL_KINESIS)' });
    expect(s['endpoint s3']).toEqual({ value: null, source: 'unset (AWS)' });
    // The text says the same, one setting a line.
    expect(text.split('\n')[0]).toMatch(/^SETTING\s+VALUE\s+SOURCE$/);
    expect(text).toMatch(new RegExp(`\\nbucket\\s+prod-bucket\\s+file \\(${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, env prod\\)\\n`));
    expect(text).toMatch(/\nregion\s+eu-west-3\s+profile \(prod\)\n/);
  });

  it('a flag region, and credentials from the environment: named, never shown', async () => {
    const { cwd } = useAwsHome();
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: KEY_IDS.prod,
      AWS_SECRET_ACCESS_KEY: SECRETS.prod,
      AWS_SESSION_TOKEN: 'SessionTokenNeverShown',
    };
    const { rows, text } = await show({ region: 'eu-north-1' }, cwd, env);
    expect(byName(rows).region).toEqual({ value: 'eu-north-1', source: 'flag' });
    expect(byName(rows).credentials).toEqual({ value: null, source: 'env (AWS_ACCESS_KEY_ID)' });
    expect(byName(rows)['config file']).toEqual({
      value: null,
      source: `none (--save-config creates ${path.join(cwd, 'coattail.config.json')})`,
    });
    for (const secret of [SECRETS.prod, SECRETS.default, 'SessionTokenNeverShown', KEY_IDS.prod, KEY_IDS.default]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(rows)).not.toContain(secret);
    }
  });

  it('no region anywhere is shown as unset, not as an error', async () => {
    const { cwd } = useAwsHome();
    const { rows } = await show({ profile: 'bare' }, cwd);
    expect(byName(rows).region).toEqual({ value: null, source: 'unset' });
    expect(byName(rows).credentials).toEqual({ value: null, source: 'profile (bare)' });
  });
});

describe('parsing', () => {
  it('config show takes --region, --profile, --config, --env and --json, from the flags or their variables', async () => {
    let seen: Record<string, unknown> = {};
    const actions: Actions = {
      'config show': (opts: Record<string, unknown>) => {
        seen = opts;
      },
    };
    vi.stubEnv('COATTAIL_ENV', 'staging');
    vi.stubEnv('AWS_PROFILE', 'prod');
    await buildProgram(actions).parseAsync(['config', 'show', '--region', 'eu-west-1', '--config', 'x.json', '--json'], { from: 'user' });
    expect(seen).toEqual({ region: 'eu-west-1', config: 'x.json', json: true, env: 'staging', profile: 'prod' });
  });

  it('every AWS-facing command takes --profile and --env', () => {
    const program = buildProgram({});
    const paths = [
      ['ingest'],
      ['tail'],
      ['watch'],
      ['jobs', 'submit'],
      ['jobs', 'list'],
      ['jobs', 'status'],
      ['jobs', 'logs'],
      ['jobs', 'cancel'],
      ['ddl', 'apply'],
      ['reprocess'],
      ['backfill'],
      ['config', 'show'],
      ['doctor'],
    ];
    for (const names of paths) {
      let cmd = program;
      for (const n of names) cmd = cmd.commands.find((c) => c.name() === n)!;
      const longs = cmd.options.map((o) => o.long);
      expect(longs, names.join(' ')).toEqual(expect.arrayContaining(['--profile', '--env', '--region', '--config']));
      expect(cmd.options.find((o) => o.long === '--profile')?.envVar, names.join(' ')).toBe('AWS_PROFILE');
    }
  });
});
