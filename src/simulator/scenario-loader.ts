import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../core/dirs.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { issuePath, ScenarioSchema, type Scenario } from './scenario.js';

export interface ScenarioListing {
  name: string;
  description: string;
  file: string;
}

/** The built-in scenarios folder: `scenarios/` in the package (a checkout or an installed coattail). */
export function scenariosDir(): string {
  const dir = path.join(packageRoot(), 'scenarios');
  if (!existsSync(path.join(dir, 'default.json'))) {
    throw new CoattailError(
      'cannot find the built-in scenarios',
      `no ${path.join(dir, 'default.json')}`,
      'Reinstall coattail, or pass a scenario file path with --scenario',
    );
  }
  return dir;
}

/** Validates a scenario object; a bad field becomes one CoattailError line naming it. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) {
    const [first, ...rest] = result.error.issues;
    const where = first ? `${issuePath(first.path)}: ${first.message}` : 'unknown validation error';
    const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw new CoattailError(
      `invalid scenario ${source}`,
      `${where}${more}`,
      'Fix that field; scenarios/default.json is a complete example and `coattail simulate --list` shows the built-in ones',
    );
  }
  return result.data;
}

function looksLikePath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
}

function builtInNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A built-in scenario by name (`default`, `whales`, …) or a scenario JSON file by path. */
export function loadScenario(nameOrPath: string, opts: { cwd?: string } = {}): Scenario {
  let file: string;
  if (looksLikePath(nameOrPath)) {
    file = path.resolve(opts.cwd ?? process.cwd(), nameOrPath);
    if (!existsSync(file)) {
      throw new CoattailError(
        `cannot load scenario ${nameOrPath}`,
        `no such file: ${file}`,
        'Check the path, or use a built-in scenario name (coattail simulate --list)',
      );
    }
  } else {
    const dir = scenariosDir();
    file = path.join(dir, `${nameOrPath}.json`);
    if (!existsSync(file)) {
      throw new CoattailError(
        `unknown scenario "${nameOrPath}"`,
        'it is neither a built-in scenario nor a path to a JSON file',
        `Use one of: ${builtInNames(dir).join(', ')}; or a file path such as ./my-scenario.json`,
      );
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CoattailError(
      `cannot load scenario ${file}`,
      `not valid JSON (${errorMessage(err)})`,
      'Fix the file; scenarios/default.json is a complete example',
    );
  }
  const scenario = parseScenario(raw, file);
  return { ...scenario, name: scenario.name ?? path.basename(file, '.json') };
}

/** The built-in scenarios with their descriptions, sorted by name. */
export function listScenarios(): ScenarioListing[] {
  const dir = scenariosDir();
  return builtInNames(dir).map((name) => {
    const file = path.join(dir, `${name}.json`);
    const scenario = loadScenario(file);
    return { name, description: scenario.description, file };
  });
}
