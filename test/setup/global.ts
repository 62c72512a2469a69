/**
 * Starts the real local emulators once for the whole vitest run: the Kinesis emulator (kinesis-local)
 * as a child process and dynalite in-process, each on a free port. Tests read the endpoints with
 * `inject('kinesisEndpoint')` / `inject('dynamoEndpoint')`.
 */
import type { TestProject } from 'vitest/node';
import dynalite from 'dynalite';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../../src/local/processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kinesisEndpoint: string;
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  const tlsPort = await freePort();
  const kinesis = spawnKinesisEmulator({ port, tlsPort });
  const dynamoPort = await freePort();
  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => dyn.listen(dynamoPort, '127.0.0.1', () => resolve()));
  await waitForPort(port, '127.0.0.1', 60_000);
  project.provide('kinesisEndpoint', `http://127.0.0.1:${port}`);
  project.provide('dynamoEndpoint', `http://127.0.0.1:${dynamoPort}`);
  return async () => {
    await new Promise<void>((resolve) => dyn.close(() => resolve()));
    if (kinesis.pid) await stopProcess(kinesis.pid, 500);
  };
}
