import path from 'node:path';
import Table from 'cli-table3';
import { createKinesisClient } from '../../aws/kinesis.js';
import { positiveInt } from '../../config/validate.js';
import { useColor, type CommandContext } from '../../core/context.js';
import { CoattailError, errorMessage } from '../../core/errors.js';
import { readStreamRecords } from '../../kinesis/read-stream.js';
import { userRecords } from '../../kinesis/user-records.js';
import { localEndpoints } from '../../local/state.js';
import { UnifiedTradeSchema, type UnifiedTrade } from '../../trade.js';

export interface LocalPeekOptions {
  stateDir: string;
  stream?: string;
  last: string;
  json?: boolean;
}

/** --last prints a sample of the newest trades, not the whole stream. */
const MAX_LAST = 10_000;

interface Group {
  exchange: string;
  symbol: string;
  trades: number;
  first: string;
  last: string;
}

/** `coattail local peek`: what the local Kinesis stream holds, per exchange and symbol. */
export async function localPeek(opts: LocalPeekOptions, ctx: CommandContext): Promise<number> {
  const lastN = positiveInt(opts.last, '--last', MAX_LAST, 0);
  const local = localEndpoints(path.resolve(ctx.cwd, opts.stateDir), ['kinesis']);
  const stream = opts.stream ?? local.stream;
  const client = createKinesisClient({ endpoint: local.kinesisEndpoint, region: local.region, local: true });
  let records;
  try {
    records = await readStreamRecords(client, stream);
  } catch (err) {
    throw new CoattailError(`cannot read stream '${stream}'`, errorMessage(err), "check 'coattail local status'");
  }
  const users = userRecords(records);
  const trades: UnifiedTrade[] = [];
  let invalid = 0;
  for (const u of users) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(u.data).toString('utf8'));
    } catch {
      invalid += 1;
      continue;
    }
    const ok = UnifiedTradeSchema.safeParse(parsed);
    if (ok.success) trades.push(ok.data);
    else invalid += 1;
  }
  const groups = new Map<string, Group>();
  for (const t of trades) {
    const key = `${t.exchange} ${t.symbol}`;
    const g = groups.get(key) ?? { exchange: t.exchange, symbol: t.symbol, trades: 0, first: t.timestamp, last: t.timestamp };
    g.trades += 1;
    if (t.timestamp < g.first) g.first = t.timestamp;
    if (t.timestamp > g.last) g.last = t.timestamp;
    groups.set(key, g);
  }
  const distinct = new Set(trades.map((t) => t.event_id)).size;
  const newest = [...trades].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).slice(0, lastN);
  const rows = [...groups.values()].sort((a, b) => (a.exchange + a.symbol).localeCompare(b.exchange + b.symbol));
  if (opts.json) {
    ctx.stdout.write(
      `${JSON.stringify({ stream, kinesis_records: records.length, trades: trades.length, distinct_event_ids: distinct, invalid, groups: rows, newest })}\n`,
    );
    return 0;
  }
  const table = new Table({
    head: ['exchange', 'symbol', 'trades', 'first trade', 'last trade'],
    style: useColor(ctx.env, ctx.stdout) ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const g of rows) table.push([g.exchange, g.symbol, g.trades, g.first, g.last]);
  ctx.stdout.write(
    `stream ${stream}: ${records.length} Kinesis records, ${trades.length} trades (${distinct} distinct event ids), ${invalid} not unified trades\n`,
  );
  ctx.stdout.write(`${table.toString()}\n`);
  if (newest.length > 0) ctx.stdout.write(`newest ${newest.length}:\n${newest.map((t) => JSON.stringify(t)).join('\n')}\n`);
  return 0;
}
