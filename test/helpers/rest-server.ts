import { createServer, type Server } from 'node:http';
import type { RestRequest, RestRoute } from '../../src/simulator/rest/types.js';

/** A real HTTP server on a free loopback port answering with REST routes (as the simulator's REST side does). */
export interface TestRestServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The requests it has answered, in order. */
  requests: RestRequest[];
  close: () => Promise<void>;
}

export async function restServer(routes: readonly RestRoute[]): Promise<TestRestServer> {
  const requests: RestRequest[] = [];
  const server: Server = createServer((req, res) => {
    const request: RestRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers };
    requests.push(request);
    let reply;
    for (const route of routes) {
      reply = route(request);
      if (reply) break;
    }
    reply ??= { status: 404, body: { message: 'NotFound' } };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
