import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UnifiedTradeSchema } from '../src/trade.js';
import { renderTradeSchema } from '../src/tools/write-trade-schema.js';
import { REPO_ROOT } from './helpers/paths.js';

const good = {
  schema_version: 1,
  event_id: 'binance:BTC-USDT:42',
  exchange: 'binance',
  symbol: 'BTC-USDT',
  trade_id: '42',
  price: 65000.5,
  quantity: 0.01,
  quote_volume: 650.005,
  side: 'sell',
  timestamp: '2024-05-01T12:00:00.123Z',
  ingested_at: '2024-05-01T12:00:00.130456Z',
};

describe('unified trade schema', () => {
  it('docs/unified-trade.schema.json is the published form of the zod schema (npm run schema)', () => {
    const published = readFileSync(path.join(REPO_ROOT, 'docs', 'unified-trade.schema.json'), 'utf8');
    expect(published).toBe(renderTradeSchema());
    const json = JSON.parse(published) as { required: string[]; additionalProperties: boolean };
    expect(json.required.sort()).toEqual(Object.keys(good).sort());
    expect(json.additionalProperties).toBe(false);
  });

  it('accepts a valid trade and rejects each broken field', () => {
    expect(UnifiedTradeSchema.safeParse(good).success).toBe(true);
    const broken: Array<[string, unknown]> = [
      ['schema_version', 2],
      ['exchange', 'kraken'],
      ['symbol', 'btc-usdt'],
      ['price', 0],
      ['quantity', -1],
      ['side', 'BUY'],
      ['timestamp', '2024-05-01T12:00:00Z'],
      ['timestamp', '2024-05-01 12:00:00.123'],
      ['ingested_at', 1714564800000],
      ['event_id', 'BTC-USDT:42'],
    ];
    for (const [field, value] of broken) {
      expect(UnifiedTradeSchema.safeParse({ ...good, [field]: value }).success, `${field}=${String(value)}`).toBe(false);
    }
    expect(UnifiedTradeSchema.safeParse({ ...good, extra: 1 }).success).toBe(false);
  });
});

describe('serializeTrade', () => {
  it('prints exactly what JSON.stringify prints, escaping included', async () => {
    const { serializeTrade } = await import('../src/trade.js');
    const cases = [
      good,
      { ...good, price: 1e-7, quantity: 123456789.123, quote_volume: 12.345678901234567 },
      { ...good, trade_id: 'we"ird\\id\n', event_id: 'binance:BTC-USDT:we"ird' },
    ] as const;
    for (const t of cases) expect(serializeTrade(t as never)).toBe(JSON.stringify(t));
  });
});
