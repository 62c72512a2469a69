/**
 * The demo's own emulators when another process takes a port between its pick and the emulator's listen:
 * both start again on new ports. The taken port is held on 127.0.0.2, which the Kinesis emulator's
 * all-interfaces listen collides with while a connection to 127.0.0.1 is refused, so the emulator's exit
 * (EADDRINUSE in its log) is what is seen, as in the race.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { ChildGroups } from '../../src/demo/children.js';
import { startEmulators } from '../../src/demo/emulators.js';
import { freePort } from '../../src/local/processes.js';
import { Capture } from '../helpers/context.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-emulators-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('demo emulators', () => {
  it('a port taken after it was picked: started again on new ports, saying so', { timeout: 120_000 }, async () => {
    const held = await holdPort();
    const picks: number[] = [];
    let first = true;
    const pickPort = async (): Promise<number> => {
      const port = first ? held.port : await freePort();
      first = false;
      picks.push(port);
      return port;
    };
    mkdirSync(path.join(tmp, 'logs'));
    const log = new Capture();
    const abort = new AbortController();
    try {
      const emulators = await startEmulators({
        logDir: path.join(tmp, 'logs'),
        stateDir: path.join(tmp, 'state'),
        region: 'us-east-1',
        stream: 'coattail-trades',
        shards: 1,
        alertsTable: 'coattail-alerts',
        signal: abort.signal,
        logger: createLogger(log, { level: 'warn' }),
        children: new ChildGroups(),
        pickPort,
      });
      try {
        expect(picks).toHaveLength(6); // three ports, twice
        expect(emulators.kinesisEndpoint).toBe(`http://127.0.0.1:${picks[3]}`);
        expect(emulators.kinesisEndpoint).not.toContain(`:${held.port}`);
        expect(log.text()).toContain('an emulator port was taken by another process before it could listen: starting on new ports');
        expect(log.text()).toContain(`port=${held.port}`);
        // The first start's refusal is kept in the emulator's log (each start appends to it).
        expect(readFileSync(path.join(tmp, 'logs', 'kinesis.log'), 'utf8')).toContain(`address already in use :::${held.port}`);
      } finally {
        await emulators.stop();
      }
    } finally {
      held.server.close();
    }
  });
});
