/** `make bench` / `npm run bench`: every benchmark, printed as JSON on stdout. Record results in docs/PERFORMANCE.md. */
import { benchColdStart } from './coldstart.js';
import { benchEmulator } from './emulator.js';
import { benchNormalize } from './normalize.js';
import { benchProducer } from './producer.js';
import { recordTradesCommand } from './trades.js';

const only = process.argv[2];
const results: Record<string, unknown> = {};
// Not a benchmark but the replay benchmark's input (jobs-py/bench/replay_bench.py): only when named.
if (only === 'trades') {
  process.stderr.write('simulated trades on a virtual clock → NDJSON unified trades ...\n');
  results.trades = recordTradesCommand(process.argv.slice(3));
}
if (!only || only === 'normalize') {
  process.stderr.write('normalize + serialize vs JSON.parse + JSON.stringify ...\n');
  results.normalize = benchNormalize();
}
if (!only || only === 'coldstart') {
  process.stderr.write('coattail --help cold start ...\n');
  results.coldstart = benchColdStart();
}
if (!only || only === 'producer') {
  process.stderr.write('producer: peak RSS under a 20,000 trades/s burst with Kinesis stalled ...\n');
  results.producer = await benchProducer();
}
if (!only || only === 'emulator') {
  process.stderr.write('the local Kinesis emulator: plain records per second by batch size ...\n');
  results.emulator = await benchEmulator();
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
