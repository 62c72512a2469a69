/**
 * What `coattail tail` does with each user record read from the stream: parse it as a unified trade (or say
 * why it is not one), keep it if it passes the filters, and print it as an NDJSON line or a table row.
 */
import { UnifiedTradeSchema, type UnifiedTrade } from '../trade.js';

export interface TradeFilter {
  /** Upper-case BASE-QUOTE symbols; empty keeps every symbol. */
  symbols: readonly string[];
  /** The least quote volume (price × quantity, in the quote currency) kept; 0 keeps all. */
  minUsd: number;
}

export type ParsedRecord =
  { ok: true; trade: UnifiedTrade; /** The record's own JSON, every field kept, on one line. */ line: string } | { ok: false; why: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The record's bytes as a unified trade, or why they are not one (not UTF-8 JSON, or not the schema). */
export function parseTradeRecord(data: Uint8Array): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(data));
  } catch {
    return { ok: false, why: `not JSON (${data.length} bytes${looksBinary(data) ? ', binary' : ''})` };
  }
  const parsed = UnifiedTradeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'the record';
    return { ok: false, why: `not a unified trade (${where}: ${issue?.message ?? 'does not match'})` };
  }
  return { ok: true, trade: parsed.data, line: JSON.stringify(value) };
}

function looksBinary(data: Uint8Array): boolean {
  return data.some((b) => b < 0x09 || (b > 0x0d && b < 0x20));
}

export function keep(trade: UnifiedTrade, filter: TradeFilter): boolean {
  if (filter.symbols.length > 0 && !filter.symbols.includes(trade.symbol)) return false;
  return trade.quote_volume >= filter.minUsd;
}

const WIDTHS = { time: 26, exchange: 8, symbol: 11, side: 4, price: 14, quantity: 16, value: 16 } as const;

/** The table's header line (for a terminal). */
export function tableHeader(): string {
  return [
    'time (UTC)'.padEnd(WIDTHS.time),
    'exchange'.padEnd(WIDTHS.exchange),
    'symbol'.padEnd(WIDTHS.symbol),
    'side'.padEnd(WIDTHS.side),
    'price'.padStart(WIDTHS.price),
    'quantity'.padStart(WIDTHS.quantity),
    'quote value'.padStart(WIDTHS.value),
  ].join(' ');
}

const QUOTE_VALUE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** One trade as a table row: its time without the `T` and `Z`, the taker's side coloured when asked. */
export function tableRow(t: UnifiedTrade, color: boolean): string {
  const side = t.side.padEnd(WIDTHS.side);
  const coloured = color ? `${t.side === 'buy' ? '\x1b[32m' : '\x1b[31m'}${side}\x1b[0m` : side;
  return [
    t.timestamp.replace('T', ' ').replace('Z', '').padEnd(WIDTHS.time),
    t.exchange.padEnd(WIDTHS.exchange),
    t.symbol.padEnd(WIDTHS.symbol),
    coloured,
    String(t.price).padStart(WIDTHS.price),
    String(t.quantity).padStart(WIDTHS.quantity),
    QUOTE_VALUE.format(t.quote_volume).padStart(WIDTHS.value),
  ].join(' ');
}
