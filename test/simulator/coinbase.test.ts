import { describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/server.js';
import { closedAfterEach, BTC_ETH, PrintLog, testScenario, TestClient, UUID } from '../helpers/simulator.js';

// Frames from EXCHANGES.md.
const SAMPLE_MATCH = JSON.parse(
  '{"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","size":"5.23512","price":"400.23","side":"sell"}',
) as Record<string, unknown>;
const SAMPLE_HEARTBEAT = JSON.parse(
  '{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}',
) as Record<string, unknown>;
const SAMPLE_LAST_MATCH = JSON.parse(
  '{"type":"last_match","trade_id":881613,"maker_order_id":"27fff20b-af29-4f45-8744-56dd1ef57dc0","taker_order_id":"1da6ce16-c8da-4732-9f71-6049f4c6aaf8","side":"sell","size":"0.04","price":"14.7775","product_id":"BAND-GBP","sequence":333938798,"time":"2021-04-17T16:43:30.244075Z"}',
) as Record<string, unknown>;
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const DECIMAL = /^\d+(\.\d+)?$/;

const { sims, clients } = closedAfterEach();

async function sim(overrides: Parameters<typeof testScenario>[0] = {}): Promise<{ sim: SimulatorHandle; log: PrintLog }> {
  const handle = await startSimulator({
    scenario: testScenario({ exchanges: ['coinbase'], waitForClients: true, symbols: BTC_ETH, ...overrides }),
  });
  sims.push(handle);
  const log = new PrintLog();
  handle.onTrade(log.add);
  return { sim: handle, log };
}

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

const ofType = (c: TestClient, type: string): Array<Record<string, unknown>> => c.messages.filter((m) => m.type === type);
const opposite = (side: string): string => (side === 'buy' ? 'sell' : 'buy');

describe('coinbase feed', () => {
  it('answers subscribe with subscriptions, one last_match per product, then matches with the maker side', async () => {
    const { sim: s, log } = await sim();
    const c = await connect(s.coinbaseUrl);
    c.send({ type: 'subscribe', product_ids: ['BTC-USDT', 'ETH-USDT'], channels: ['matches', 'heartbeat'] });
    await c.until(() => ofType(c, 'match').length >= 30, '30 matches');

    const [first, second, third] = c.messages;
    expect(first).toEqual({
      type: 'subscriptions',
      channels: [
        { name: 'matches', product_ids: ['BTC-USDT', 'ETH-USDT'], account_ids: null },
        { name: 'heartbeat', product_ids: ['BTC-USDT', 'ETH-USDT'], account_ids: null },
      ],
    });
    // last_match: the trade each product printed before the session (nothing printed since: waitForClients).
    const initial = (product: string) => s.initialTrades.find((t) => t.exchange === 'coinbase' && t.symbol === product)!;
    for (const [m, product] of [
      [second, 'BTC-USDT'],
      [third, 'ETH-USDT'],
    ] as const) {
      expect(Object.keys(m!)).toEqual(Object.keys(SAMPLE_LAST_MATCH));
      expect(m).toMatchObject({
        type: 'last_match',
        product_id: product,
        trade_id: initial(product).tradeId,
        time: initial(product).timeIso,
      });
      expect(m!.side).toBe(opposite(initial(product).takerSide));
      expect(Number(m!.price)).toBe(Number(initial(product).price));
    }
    expect(ofType(c, 'last_match')).toHaveLength(2);

    const lastId = new Map(s.initialTrades.filter((t) => t.exchange === 'coinbase').map((t) => [t.symbol, t.tradeId]));
    for (const m of ofType(c, 'match')) {
      expect(Object.keys(m)).toEqual(Object.keys(SAMPLE_MATCH));
      for (const k of Object.keys(SAMPLE_MATCH)) expect(typeof m[k], k).toBe(typeof SAMPLE_MATCH[k]);
      expect(m.maker_order_id).toMatch(UUID);
      expect(m.taker_order_id).toMatch(UUID);
      expect(m.maker_order_id).not.toBe(m.taker_order_id);
      expect(m.time).toMatch(ISO_MICROS);
      expect(m.price).toMatch(DECIMAL);
      expect(m.size).toMatch(DECIMAL);
      const product = m.product_id as string;
      // Trade ids are consecutive per product: no gap for a client that was there from the start.
      expect(m.trade_id).toBe(lastId.get(product)! + 1);
      lastId.set(product, m.trade_id as number);
      const printed = log.find('coinbase', product, m.trade_id as number)!;
      expect(printed).toBeDefined();
      expect(m.side).toBe(opposite(printed.takerSide)); // side is the MAKER's
      expect(Number(m.price)).toBe(Number(printed.price));
      expect(Number(m.size)).toBe(Number(printed.size));
      expect(m.time).toBe(printed.timeIso);
    }
    const sequences = ofType(c, 'match')
      .filter((m) => m.product_id === 'BTC-USDT')
      .map((m) => m.sequence as number);
    for (let i = 1; i < sequences.length; i += 1) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
  });

  it('accepts channel objects with their own product_ids', async () => {
    const { sim: s } = await sim({ waitForClients: false });
    const c = await connect(`${s.binanceUrl}/`); // `/` is the Coinbase feed too
    c.send({ type: 'subscribe', channels: [{ name: 'matches', product_ids: ['ETH-USDT'] }] });
    await c.until(() => ofType(c, 'match').length >= 5, 'ETH matches');
    expect(c.messages[0]).toEqual({ type: 'subscriptions', channels: [{ name: 'matches', product_ids: ['ETH-USDT'], account_ids: null }] });
    expect(new Set(ofType(c, 'match').map((m) => m.product_id))).toEqual(new Set(['ETH-USDT']));
    expect(ofType(c, 'heartbeat')).toEqual([]);
  });

  it('sends a heartbeat per product whose last_trade_id is the latest trade sent before it', async () => {
    const { sim: s } = await sim({ rate: 100, coinbase: { heartbeatIntervalMs: 50 } });
    const c = await connect(s.coinbaseUrl);
    c.send({ type: 'subscribe', product_ids: ['BTC-USDT', 'ETH-USDT'], channels: ['matches', 'heartbeat'] });
    await c.until(() => ofType(c, 'heartbeat').length >= 10, '10 heartbeats');
    const latest = new Map<string, number>();
    let checked = 0;
    for (const m of c.messages) {
      if (m.type === 'match' || m.type === 'last_match') latest.set(m.product_id as string, m.trade_id as number);
      if (m.type !== 'heartbeat') continue;
      expect(Object.keys(m)).toEqual(Object.keys(SAMPLE_HEARTBEAT));
      expect(m.time).toMatch(ISO_MICROS);
      expect(m.last_trade_id).toBe(latest.get(m.product_id as string));
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(new Set(ofType(c, 'heartbeat').map((h) => h.product_id))).toEqual(new Set(['BTC-USDT', 'ETH-USDT']));
  });

  it('sends an error and closes when no subscribe arrives within subscribeTimeoutMs', async () => {
    const { sim: s } = await sim({ coinbase: { subscribeTimeoutMs: 200 } });
    const opened = Date.now();
    const c = await connect(s.coinbaseUrl);
    const closed = await c.closed;
    expect(closed.at - opened).toBeGreaterThanOrEqual(190);
    expect(c.messages).toHaveLength(1);
    expect(c.messages[0]).toMatchObject({ type: 'error', message: 'Failed to subscribe' });
    expect(c.messages[0]!.reason).toMatch(/subscribe/);
  });

  it('refuses an unknown product or channel with an error, and still takes a good subscribe', async () => {
    const { sim: s } = await sim({ waitForClients: false });
    const c = await connect(s.coinbaseUrl);
    c.send({ type: 'subscribe', product_ids: ['DOGE-USDT'], channels: ['matches'] });
    expect(await c.next((m) => m.type === 'error', 'product error')).toEqual({
      type: 'error',
      message: 'Failed to subscribe',
      reason: 'DOGE-USDT is not a valid product',
    });
    const n = c.frames.length;
    c.send({ type: 'subscribe', product_ids: ['BTC-USDT'], channels: ['level2'] });
    expect((await c.next((m) => m.type === 'error', 'channel error', n)).reason).toMatch(/^level2 is not a valid channel/);
    c.send({ type: 'subscribe', product_ids: ['BTC-USDT'], channels: ['matches'] });
    await c.next((m) => m.type === 'match', 'a match after the good subscribe');
    expect(ofType(c, 'subscriptions')).toHaveLength(1);
  });

  it('unsubscribes a product: subscriptions shows what is left and its matches stop', async () => {
    const { sim: s } = await sim({ waitForClients: false });
    const c = await connect(s.coinbaseUrl);
    c.send({ type: 'subscribe', product_ids: ['BTC-USDT', 'ETH-USDT'], channels: ['matches'] });
    await c.until(() => ofType(c, 'match').length >= 5, 'matches');
    c.send({ type: 'unsubscribe', product_ids: ['BTC-USDT'], channels: ['matches'] });
    const reply = await c.next((m) => m.type === 'subscriptions' && c.messages.indexOf(m) > 0, 'second subscriptions');
    expect(reply).toEqual({ type: 'subscriptions', channels: [{ name: 'matches', product_ids: ['ETH-USDT'], account_ids: null }] });
    const after = c.messages.indexOf(reply);
    await c.until(() => c.messages.slice(after).filter((m) => m.type === 'match').length >= 20, '20 matches after');
    expect(
      new Set(
        c.messages
          .slice(after)
          .filter((m) => m.type === 'match')
          .map((m) => m.product_id),
      ),
    ).toEqual(new Set(['ETH-USDT']));
  });

  it('pings Coinbase clients too', async () => {
    const { sim: s } = await sim({ coinbase: { pingIntervalMs: 40 } });
    const c = await connect(s.coinbaseUrl);
    await c.until(() => c.pings.length >= 3, '3 pings');
  });
});
