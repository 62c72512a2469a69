/**
 * The exchanges' symbol listings as the simulator serves them, from its scenario's symbols: Binance's
 * `GET /api/v3/exchangeInfo` (with its `symbol=` and `symbols=[…]` filters) and Coinbase's
 * `GET /products` and `GET /products/{id}` (under `/coinbase`). Every symbol is listed and trading; the
 * tick and lot sizes are the scenario's price and size decimals. Pure: the time comes from `now`.
 */
import { binanceSymbol } from '../protocols/binance.js';
import type { SymbolMarket } from '../scenario.js';
import type { RestReply, RestRequest, RestRoute } from './types.js';

type Listed = Pick<SymbolMarket, 'symbol' | 'priceDecimals' | 'sizeDecimals'>;

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' };

/** `2` → `0.01`; `0` → `1`. */
function step(decimals: number): string {
  return decimals === 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
}

function parts(symbol: string): [string, string] {
  const [base = '', quote = ''] = symbol.split('-');
  return [base, quote];
}

function binanceEntry(m: Listed): Record<string, unknown> {
  const [base, quote] = parts(m.symbol);
  return {
    symbol: binanceSymbol(m.symbol),
    status: 'TRADING',
    baseAsset: base,
    baseAssetPrecision: 8,
    quoteAsset: quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: step(m.priceDecimals), maxPrice: '1000000.00000000', tickSize: step(m.priceDecimals) },
      { filterType: 'LOT_SIZE', minQty: step(m.sizeDecimals), maxQty: '9000.00000000', stepSize: step(m.sizeDecimals) },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** Binance's reply to an unknown symbol in `symbol=` or `symbols=`. */
const INVALID_SYMBOL: RestReply = { status: 400, headers: JSON_HEADERS, body: { code: -1121, msg: 'Invalid symbol.' } };

/** The Binance names asked for with `symbol=X` or `symbols=["X","Y"]`; all when neither is given. */
function wanted(url: URL): string[] | undefined | 'malformed' {
  const one = url.searchParams.get('symbol');
  if (one !== null) return [one];
  const many = url.searchParams.get('symbols');
  if (many === null) return undefined;
  try {
    const list: unknown = JSON.parse(many);
    return Array.isArray(list) && list.every((s) => typeof s === 'string') ? list : 'malformed';
  } catch {
    return 'malformed';
  }
}

/** Binance's `GET /api/v3/exchangeInfo`. */
export function binanceExchangeInfoRoute(symbols: readonly Listed[], now: () => number = Date.now): RestRoute {
  const entries = new Map(symbols.map((m) => [binanceSymbol(m.symbol), binanceEntry(m)]));
  return (req: RestRequest) => {
    if (req.method !== 'GET' || req.url.pathname !== '/api/v3/exchangeInfo') return undefined;
    const names = wanted(req.url);
    if (names === 'malformed')
      return { status: 400, headers: JSON_HEADERS, body: { code: -1100, msg: "Illegal characters found in parameter 'symbols'." } };
    if (names?.some((n) => !entries.has(n))) return INVALID_SYMBOL;
    const listed = names ? names.map((n) => entries.get(n)) : [...entries.values()];
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        timezone: 'UTC',
        serverTime: now(),
        rateLimits: [
          { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
          { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
          { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
        ],
        exchangeFilters: [],
        symbols: listed,
      },
    };
  };
}

function coinbaseProduct(m: Listed): Record<string, unknown> {
  const [base, quote] = parts(m.symbol);
  return {
    id: m.symbol,
    base_currency: base,
    quote_currency: quote,
    quote_increment: step(m.priceDecimals),
    base_increment: step(m.sizeDecimals),
    display_name: `${base}-${quote}`,
    min_market_funds: '1',
    margin_enabled: false,
    post_only: false,
    limit_only: false,
    cancel_only: false,
    status: 'online',
    status_message: '',
    trading_disabled: false,
    fx_stablecoin: false,
    max_slippage_percentage: '0.03000000',
    auction_mode: false,
    high_bid_limit_percentage: '',
  };
}

/** Coinbase's `GET /products` and `GET /products/{id}`, under `prefix` (the simulator's `/coinbase`). */
export function coinbaseProductsRoute(symbols: readonly Listed[], prefix = '/coinbase'): RestRoute {
  const products = new Map(symbols.map((m) => [m.symbol, coinbaseProduct(m)]));
  const root = `${prefix}/products`;
  return (req: RestRequest) => {
    if (req.method !== 'GET') return undefined;
    const path = req.url.pathname.replace(/\/+$/, '');
    if (path === root) return { status: 200, headers: JSON_HEADERS, body: [...products.values()] };
    const id = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined;
    // Deeper paths (/products/{id}/trades) are other routes'.
    if (id === undefined || id.includes('/')) return undefined;
    const product = products.get(decodeURIComponent(id).toUpperCase());
    return product
      ? { status: 200, headers: JSON_HEADERS, body: product }
      : { status: 404, headers: JSON_HEADERS, body: { message: 'NotFound' } };
  };
}

/** Both listings, for the simulator's route list. */
export function metadataRoutes(symbols: readonly Listed[], now: () => number = Date.now): RestRoute[] {
  return [binanceExchangeInfoRoute(symbols, now), coinbaseProductsRoute(symbols)];
}
