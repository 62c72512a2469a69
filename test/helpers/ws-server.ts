import { WebSocketServer, type WebSocket } from 'ws';

/** A real WebSocket server on a free loopback port, scripted by each test. */
export interface TestServer {
  url: string;
  wss: WebSocketServer;
  open: () => WebSocket[];
  connections: number;
  maxConcurrent: number;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
export async function server(onConnection: (ws: WebSocket, n: number, srv: TestServer) => void): Promise<TestServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const addr = wss.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const srv: TestServer = {
    url: `ws://127.0.0.1:${port}`,
    wss,
    open: () => [...wss.clients].filter((c) => c.readyState === c.OPEN),
    connections: 0,
    maxConcurrent: 0,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
  wss.on('connection', (ws) => {
    srv.connections += 1;
    srv.maxConcurrent = Math.max(srv.maxConcurrent, srv.open().length);
    onConnection(ws, srv.connections, srv);
  });
  servers.push(srv);
  return srv;
}

export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}
