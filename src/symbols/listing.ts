/**
 * An exchange's listing: every symbol it lists, with its base and quote asset as the exchange itself
 * names them. Read from Binance's `GET /api/v3/exchangeInfo` and Coinbase's `GET /products`.
 */
import { z } from 'zod';
import type { Exchange } from '../exchanges/registry.js';

export interface ListedSymbol {
  /** The exchange's own name: `ARBUSD` on Binance, `BTC-USD` on Coinbase. */
  exchangeSymbol: string;
  base: string;
  quote: string;
  /** `BASE-QUOTE`, upper case. */
  unified: string;
  /** False when the exchange lists it but does not trade it now (Binance `BREAK`, Coinbase `delisted`). */
  trading: boolean;
  /** The exchange's own word for its state: `TRADING`, `BREAK`, `online`, `delisted`… */
  status: string;
}

export interface Listing {
  exchange: Exchange;
  /** Epoch ms when the exchange answered. */
  fetchedAtMs: number;
  symbols: ListedSymbol[];
}

// Only the fields read here; the exchanges send many more (filters, increments), which are ignored.
const asset = z.string().min(1);
const BinanceExchangeInfo = z.object({
  symbols: z.array(z.object({ symbol: z.string().min(1), status: z.string(), baseAsset: asset, quoteAsset: asset })),
});
const CoinbaseProducts = z.array(
  z.object({
    id: z.string().min(1),
    base_currency: asset,
    quote_currency: asset,
    status: z.string(),
    trading_disabled: z.boolean().optional(),
  }),
);

function listed(exchangeSymbol: string, base: string, quote: string, trading: boolean, status: string): ListedSymbol {
  const b = base.toUpperCase();
  const q = quote.toUpperCase();
  return { exchangeSymbol, base: b, quote: q, unified: `${b}-${q}`, trading, status };
}

/** The symbols of a Binance exchangeInfo reply, or why the reply is not one. */
export function binanceSymbols(body: unknown): ListedSymbol[] | string {
  const parsed = BinanceExchangeInfo.safeParse(body);
  if (!parsed.success)
    return `not an exchangeInfo reply (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`;
  return parsed.data.symbols.map((s) => listed(s.symbol, s.baseAsset, s.quoteAsset, s.status === 'TRADING', s.status));
}

/** The products of a Coinbase /products reply, or why the reply is not one. */
export function coinbaseSymbols(body: unknown): ListedSymbol[] | string {
  const parsed = CoinbaseProducts.safeParse(body);
  if (!parsed.success)
    return `not a products reply (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`;
  return parsed.data.map((p) =>
    listed(
      p.id,
      p.base_currency,
      p.quote_currency,
      p.status === 'online' && p.trading_disabled !== true,
      p.trading_disabled ? 'trading disabled' : p.status,
    ),
  );
}

/** Where each exchange lists its symbols (relative to its REST base URL), and how to read the reply. */
export const LISTING_ENDPOINTS: Record<Exchange, { path: string; name: string; read: (body: unknown) => ListedSymbol[] | string }> = {
  binance: { path: '/api/v3/exchangeInfo', name: 'exchangeInfo', read: binanceSymbols },
  coinbase: { path: '/products', name: 'products', read: coinbaseSymbols },
};
