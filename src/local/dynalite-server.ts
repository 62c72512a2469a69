/**
 * Runs dynalite (a DynamoDB-compatible store) as its own process, for `coattail local up` and tests.
 * Usage: node dynalite-server.js --port 8000 [--path DIR]
 */
import dynalite from 'dynalite';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg('--port') ?? '8000');
const dir = arg('--path');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: dir } : {}) });
server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`dynalite listening on 127.0.0.1:${port}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
