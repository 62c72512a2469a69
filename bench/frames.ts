/**
 * Frames in the exact shapes the exchanges send (see shared/EXCHANGES.md), generated deterministically
 * so every benchmark run maps the same bytes.
 */
/** The Binance symbols the frames carry, by their unified names (what a mapper is given at subscription). */
export const RECORDED_BINANCE_SYMBOLS: ReadonlyMap<string, string> = new Map([
  ['BTCUSDT', 'BTC-USDT'],
  ['ETHUSDT', 'ETH-USDT'],
  ['SOLUSDT', 'SOL-USDT'],
]);

export function recordedFrames(count: number, seed = 1): string[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const symbols = [
    ['BTCUSDT', 'BTC-USDT', 65000],
    ['ETHUSDT', 'ETH-USDT', 3200],
    ['SOLUSDT', 'SOL-USDT', 150],
  ] as const;
  const frames: string[] = [];
  const t0 = 1714564800000;
  for (let i = 0; i < count; i++) {
    const [raw, product, mid] = symbols[i % 3]!;
    const price = (mid * (1 + (rnd() - 0.5) / 100)).toFixed(2);
    const size = (rnd() * 2).toFixed(8);
    const t = t0 + i;
    if (i % 2 === 0) {
      frames.push(
        `{"stream":"${raw.toLowerCase()}@trade","data":{"e":"trade","E":${t},"s":"${raw}","t":${1000000 + i},"p":"${price}000000","q":"${size}","T":${t},"m":${rnd() < 0.5},"M":true}}`,
      );
    } else {
      const iso = new Date(t).toISOString().replace('Z', '123Z');
      frames.push(
        `{"type":"match","trade_id":${500000 + i},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","side":"${rnd() < 0.5 ? 'buy' : 'sell'}","size":"${size}","price":"${price}","product_id":"${product}","sequence":${9000000 + i},"time":"${iso}"}`,
      );
    }
  }
  return frames;
}
