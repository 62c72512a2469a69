/** The config file: found upwards from the working folder, then the per-user one; named environments; --save-config. */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig, saveConfigFile } from '../../src/config/settings.js';
import { resolveEmrSettings } from '../../src/spark/emr/settings.js';
import { tempDir, testContext } from '../helpers/context.js';
import { CoattailError } from '../../src/core/errors.js';
import { writeConfig } from '../helpers/aws-home.js';

describe('which file', () => {
  it('the nearest coattail.config.json upwards from the working folder', () => {
    const root = tempDir('config');
    const top = writeConfig(root, { region: 'eu-west-1' });
    const near = writeConfig(path.join(root, 'a'), { region: 'eu-west-2' });
    const deep = path.join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    const env = { HOME: root, XDG_CONFIG_HOME: path.join(root, 'xdg') };
    expect(findConfigFile(deep, env, undefined)).toEqual({ path: near, exists: true, how: 'search' });
    expect(findConfigFile(root, env, undefined)).toEqual({ path: top, exists: true, how: 'search' });
  });

  it('then the per-user one (XDG_CONFIG_HOME/coattail), then none: ./coattail.config.json is where --save-config would write', () => {
    const root = tempDir('config');
    const cwd = path.join(root, 'work');
    mkdirSync(cwd);
    const env = { HOME: root, XDG_CONFIG_HOME: path.join(root, 'xdg') };
    expect(findConfigFile(cwd, env, undefined)).toEqual({ path: path.join(cwd, 'coattail.config.json'), exists: false, how: 'none' });
    const user = writeConfig(path.join(root, 'xdg', 'coattail'), { stream: 's' });
    expect(findConfigFile(cwd, env, undefined)).toEqual({ path: user, exists: true, how: 'user' });
  });

  it('--config names one file, even one that does not exist yet', () => {
    const root = tempDir('config');
    writeConfig(root, { region: 'eu-west-1' });
    expect(findConfigFile(root, {}, 'other.json')).toEqual({ path: path.join(root, 'other.json'), exists: false, how: 'explicit' });
  });
});

describe('--env', () => {
  const content = {
    region: 'eu-west-1',
    stream: 'trades',
    environments: { prod: { region: 'eu-central-1', bucket: 'prod-bucket' }, staging: { stream: 'staging-trades' } },
  };

  it("the environment's keys override the top-level ones", () => {
    const cwd = tempDir('config');
    writeConfig(cwd, content);
    const prod = loadConfig(cwd, {}, { env: 'prod' });
    expect(prod.settings).toEqual({ region: 'eu-central-1', stream: 'trades', bucket: 'prod-bucket' });
    expect(prod.envKeys.sort()).toEqual(['bucket', 'region']);
    expect(loadConfig(cwd, {}, {}).settings).toEqual({ region: 'eu-west-1', stream: 'trades' });
  });

  it('an unknown name is one line listing the known ones, exit 2', () => {
    const cwd = tempDir('config');
    const file = writeConfig(cwd, content);
    let err: unknown;
    try {
      loadConfig(cwd, {}, { env: 'prdo' });
    } catch (e) {
      err = e;
    }
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toBe(
      `coattail: --env 'prdo' is not an environment of ${file}: the environments there are prod, staging. Pass one of those, or add "environments": {"prdo": {...}} to the file`,
    );
  });

  it('credentials have no place in the file, nor in an environment', () => {
    const cwd = tempDir('config');
    writeConfig(cwd, { environments: { prod: { aws_secret_access_key: 'x' } } });
    expect(() => loadConfig(cwd, {}, { env: 'prod' })).toThrow(/is not a coattail config: 'environments\.prod': /);
  });
});

describe('--save-config', () => {
  it('writes into the environment chosen, keeping the rest', () => {
    const cwd = tempDir('config');
    const file = writeConfig(cwd, { region: 'eu-west-1', environments: { prod: { bucket: 'b1' } } });
    saveConfigFile(file, { region: 'eu-central-1', applicationId: '00abc' }, 'prod');
    saveConfigFile(file, { stream: 'top' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      region: 'eu-west-1',
      stream: 'top',
      environments: { prod: { applicationId: '00abc', bucket: 'b1', region: 'eu-central-1' } },
    });
  });
});

describe('a command with --save-config and --env', () => {
  it('writes what was given into that environment of the file found upwards, and reads it back from there', async () => {
    const root = tempDir('config');
    const file = writeConfig(root, { stream: 'top', environments: { prod: {} } });
    const cwd = path.join(root, 'sub');
    mkdirSync(cwd);
    const env = { HOME: root, XDG_CONFIG_HOME: path.join(root, 'xdg'), AWS_CONFIG_FILE: path.join(root, 'none') };
    const given = await resolveEmrSettings(
      { applicationId: '00fprod', region: 'eu-central-1', bucket: 'prod-bucket', env: 'prod', saveConfig: true },
      testContext({ cwd, env }),
    );
    expect(given.file).toBe(file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      stream: 'top',
      environments: { prod: { applicationId: '00fprod', bucket: 'prod-bucket', region: 'eu-central-1' } },
    });
    const later = await resolveEmrSettings({ env: 'prod' }, testContext({ cwd, env }));
    expect(later).toMatchObject({ applicationId: '00fprod', bucket: 'prod-bucket', region: 'eu-central-1', stream: 'top' });
  });
});
