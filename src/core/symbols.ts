/**
 * Known base and quote assets: the last fallback for Binance's symbols, when neither its exchangeInfo nor
 * a cached copy can be read (src/symbols/resolve.ts). A name such as `BTCUSDT` is split by the longest
 * known quote suffix whose remainder is a known base, never by guessing a position — which makes
 * `ARBUSD` ARB-USD, where Binance means AR/BUSD: the listing, when there is one, decides.
 */
export const QUOTE_ASSETS = ['USDT', 'USDC', 'FDUSD', 'TUSD', 'BUSD', 'USD', 'EUR', 'GBP', 'TRY', 'BRL', 'BTC', 'ETH', 'BNB'] as const;

export const BASE_ASSETS = [
  'BTC',
  'ETH',
  'SOL',
  'BNB',
  'XRP',
  'ADA',
  'DOGE',
  'AVAX',
  'DOT',
  'LINK',
  'LTC',
  'MATIC',
  'POL',
  'TRX',
  'ATOM',
  'NEAR',
  'UNI',
  'ARB',
  'OP',
  'APT',
  'SUI',
  'SHIB',
  'PEPE',
  'BCH',
  'ETC',
  'FIL',
  'XLM',
  'BAND',
  'USDC',
  'USDT',
  'TON',
  'INJ',
  'AAVE',
  'MKR',
  'SEI',
  'TIA',
  'WIF',
  'BONK',
] as const;

const quotesLongestFirst = [...QUOTE_ASSETS].sort((a, b) => b.length - a.length);
const baseSet: ReadonlySet<string> = new Set(BASE_ASSETS);
const quoteSet: ReadonlySet<string> = new Set(QUOTE_ASSETS);

export interface SymbolParts {
  base: string;
  quote: string;
  /** `BASE-QUOTE`. */
  unified: string;
}

const cache = new Map<string, SymbolParts | null>();

/** `BTCUSDT` → {BTC, USDT}; undefined when the table does not know the pair. */
export function splitConcatenatedSymbol(raw: string): SymbolParts | undefined {
  const hit = cache.get(raw);
  if (hit !== undefined) return hit ?? undefined;
  const upper = raw.toUpperCase();
  let found: SymbolParts | null = null;
  for (const quote of quotesLongestFirst) {
    if (upper.length > quote.length && upper.endsWith(quote)) {
      const base = upper.slice(0, upper.length - quote.length);
      if (baseSet.has(base)) {
        found = { base, quote, unified: `${base}-${quote}` };
        break;
      }
    }
  }
  if (cache.size < 10_000) cache.set(raw, found); // bounded: symbols come from frames
  return found ?? undefined;
}

/** `btc-usdt` / `BTC-USDT` → {BTC, USDT}; undefined when malformed or unknown. */
export function parseUnifiedSymbol(symbol: string): SymbolParts | undefined {
  const parts = symbol.toUpperCase().split('-');
  if (parts.length !== 2) return undefined;
  const [base, quote] = parts as [string, string];
  if (!baseSet.has(base) || !quoteSet.has(quote)) return undefined;
  return { base, quote, unified: `${base}-${quote}` };
}
