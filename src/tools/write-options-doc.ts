/** Rewrites the README's reference of options and variables from the command tree (`npm run options-doc`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../cli.js';
import { optionsReference, replaceReference } from '../cli/reference.js';

export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const next = replaceReference(readFileSync(README_PATH, 'utf8'), optionsReference(buildProgram({})));
  if (next === undefined) throw new Error(`${README_PATH} has no options reference markers`);
  writeFileSync(README_PATH, next);
  process.stderr.write(`wrote the options reference in ${README_PATH}\n`);
}
