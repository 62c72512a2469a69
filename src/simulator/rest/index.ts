/**
 * The simulator's REST side, beside its WebSocket upgrades on the same port: Binance's endpoints at the
 * root (`/api/v3/...`), Coinbase Exchange's under `/coinbase` (`/coinbase/products/...`). Every route is
 * one `RestRoute`; the list below is the one place that names them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { binanceTradesRoute } from './binance-trades.js';
import { coinbaseTradesRoute } from './coinbase-trades.js';
import type { PrintHistory } from './history.js';
import { metadataRoutes } from './metadata.js';
import type { SymbolMarket } from '../scenario.js';
import type { RestReply, RestRoute } from './types.js';

export interface RestSettings {
  history: PrintHistory;
  symbols: readonly string[];
  /** The scenario's markets: what the listings (exchangeInfo, products) say. */
  markets: readonly SymbolMarket[];
  /** Which exchanges the scenario has: the other one's endpoints answer as for an unknown symbol. */
  binance: boolean;
  coinbase: boolean;
}

export function restRoutes(s: RestSettings): RestRoute[] {
  return [
    binanceTradesRoute({ history: s.history, symbols: s.symbols, enabled: s.binance }),
    coinbaseTradesRoute({ history: s.history, symbols: s.symbols, enabled: s.coinbase }),
    ...metadataRoutes(s.markets),
  ];
}

const HINT =
  'coattail simulator: connect with WebSocket to /stream?streams=btcusdt@trade (Binance) or /coinbase (Coinbase); REST: GET /api/v3/historicalTrades, /api/v3/exchangeInfo, /coinbase/products, /coinbase/products/{id}/trades';

/** Answers one plain HTTP request from the routes; a path none of them knows gets 404 with a hint. */
export function answerRest(routes: readonly RestRoute[], req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://simulator');
  let reply: RestReply | undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply = {
      status: 405,
      headers: { Allow: 'GET' },
      body: { message: `${req.method ?? '?'} is not allowed: the simulator's REST side is read-only` },
    };
  } else {
    for (const route of routes) {
      reply = route({ method: req.method, url, headers: req.headers });
      if (reply) break;
    }
  }
  reply ??= { status: 404, body: { message: `no endpoint at ${url.pathname}. ${HINT}` } };
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...reply.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
