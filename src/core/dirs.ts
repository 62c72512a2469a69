/**
 * Where coattail finds its own files and keeps a user's: the package root (a checkout or an installed
 * package: the folder with coattail's package.json, holding jobs-py/, ddl/, scenarios/), and the per-user
 * folders of the XDG base directory layout — data (`$XDG_DATA_HOME/coattail`, else
 * `~/.local/share/coattail`: the jobs' Python environment, the jars) and config (`$XDG_CONFIG_HOME/coattail`,
 * else `~/.config/coattail`: the user's coattail.config.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoattailError } from './errors.js';

export const PACKAGE_NAME = 'coattail';

/** The folder holding coattail's package.json, found by walking up from this module (src/core or dist/src/core). */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && isCoattailManifest(manifest)) return dir;
    if (path.dirname(dir) === dir) {
      throw new CoattailError(
        "cannot find coattail's own files",
        `no package.json named ${PACKAGE_NAME} above ${from}`,
        'reinstall coattail (npm install -g coattail) or run it from its checkout',
      );
    }
  }
}

function isCoattailManifest(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** An XDG base folder: the variable when it is an absolute path (the specification ignores relative ones), else ~/<fallback>. */
function xdgBase(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const value = env[variable];
  if (value && path.isAbsolute(value)) return value;
  return path.join(env.HOME || os.homedir(), fallback);
}

/** Per-user data: `$XDG_DATA_HOME/coattail`, else `~/.local/share/coattail`. */
export function userDataDir(env: NodeJS.ProcessEnv): string {
  return path.join(xdgBase(env, 'XDG_DATA_HOME', path.join('.local', 'share')), PACKAGE_NAME);
}

/** Per-user config: `$XDG_CONFIG_HOME/coattail`, else `~/.config/coattail`. */
export function userConfigDir(env: NodeJS.ProcessEnv): string {
  return path.join(xdgBase(env, 'XDG_CONFIG_HOME', '.config'), PACKAGE_NAME);
}
