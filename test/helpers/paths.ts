/** Where the repository and the built command line are, for tests in any folder of test/. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The command line as users run it (bin/coattail, on the build in dist/). */
export const BIN = path.join(REPO_ROOT, 'bin', 'coattail');
