/**
 * How many plain records a second the local Kinesis emulator (kinesis-local, JavaScript) takes, by
 * PutRecords batch size: context for the local pipeline's limits, not a target of ours.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../src/aws/kinesis.js';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../src/local/processes.js';
import { ensureStream } from '../src/local/resources.js';

export interface EmulatorResult {
  record_bytes: number;
  seconds_per_size: number;
  records_per_s: Record<string, number>;
}

export async function benchEmulator(secondsPerSize = 3): Promise<EmulatorResult> {
  const port = await freePort();
  const child = spawnKinesisEmulator({ port, tlsPort: await freePort() });
  try {
    await waitForPort(port, '127.0.0.1', 60_000);
    const client = createKinesisClient({ endpoint: `http://127.0.0.1:${port}` }, {});
    await ensureStream(client, 'bench-emulator', 2);
    const data = Buffer.alloc(300, 97); // about one unified trade
    const records_per_s: Record<string, number> = {};
    for (const batch of [1, 10, 100, 500]) {
      const start = Date.now();
      let sent = 0;
      while (Date.now() - start < secondsPerSize * 1000) {
        const Records = Array.from({ length: batch }, (_, i) => ({ PartitionKey: `k${i % 3}`, Data: data }));
        await client.send(new PutRecordsCommand({ StreamName: 'bench-emulator', Records }));
        sent += batch;
      }
      records_per_s[`batch_${batch}`] = Math.round((sent * 1000) / (Date.now() - start));
    }
    client.destroy();
    return { record_bytes: data.length, seconds_per_size: secondsPerSize, records_per_s };
  } finally {
    if (child.pid) await stopProcess(child.pid, 200);
  }
}
