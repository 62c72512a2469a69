/** Writes docs/unified-trade.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unifiedTradeJsonSchema } from '../trade.js';

export const TRADE_SCHEMA_PATH = fileURLToPath(new URL('../../../docs/unified-trade.schema.json', import.meta.url));

export function renderTradeSchema(): string {
  return `${JSON.stringify(unifiedTradeJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TRADE_SCHEMA_PATH, renderTradeSchema());
  process.stderr.write(`wrote ${TRADE_SCHEMA_PATH}\n`);
}
