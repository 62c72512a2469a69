/**
 * The REST client's own bounds, against a real HTTP server: the request timeout covers the whole
 * answer, body included, so a server that sends headers and then stalls cannot hold a backfill (and
 * with it ingest's stop) past the bound.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackfillError, RestClient } from '../../src/exchanges/rest-client.js';

let srv: http.Server | undefined;

afterEach(async () => {
  if (!srv) return;
  srv.closeAllConnections();
  await new Promise<void>((resolve) => srv?.close(() => resolve()));
  srv = undefined;
});

/** Answers 200 with the headers and the first bytes of a JSON array, then never finishes. */
async function stallingServer(onStall?: () => void): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  srv = http.createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[{"id":1,', () => onStall?.());
  });
  await new Promise<void>((resolve) => srv?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/trades`, requests: () => requests };
}

describe('RestClient', () => {
  it('times out a body that stalls after the headers, retries, then gives up within the bound', async () => {
    const server = await stallingServer();
    const client = new RestClient({ name: 'Test', requestTimeoutMs: 200, maxAttempts: 2, backoff: { baseMs: 1, capMs: 1 } });
    const started = Date.now();
    const answer = client.get(server.url, {}, new AbortController().signal, Date.now() + 60_000);
    await expect(answer).rejects.toThrow(BackfillError);
    await expect(answer).rejects.toThrow(`gave up after 2 attempts: no complete answer from ${server.url} within 0.2 s`);
    // 2 attempts × 200 ms + at most 1 ms of backoff; 1 s leaves room for a busy machine.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests()).toBe(2);
  }, 5_000);

  it("ends a stalled body read when the caller's signal aborts", async () => {
    const stop = new AbortController();
    // Aborted once the headers and the first bytes are out, and the client has had time to read them.
    const server = await stallingServer(() => setTimeout(() => stop.abort(), 300));
    const client = new RestClient({ name: 'Test', requestTimeoutMs: 60_000 });
    const answer = client.get(server.url, {}, stop.signal, Date.now() + 60_000);
    await expect(answer).rejects.toThrow('stopped (deadline reached)');
    expect(server.requests()).toBe(1);
  }, 5_000);
});
