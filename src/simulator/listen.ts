import http, { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CoattailError } from '../core/errors.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * An HTTP server for WebSocket upgrades; plain requests are for the caller to answer (the simulator's
 * REST side, src/simulator/rest/), added with `server.on('request', ...)`.
 */
export async function listenForUpgrades(host: string, port: number, onUpgrade: UpgradeHandler): Promise<http.Server> {
  const server = http.createServer();
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'the port is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(
        new CoattailError(`cannot listen on ${host}:${port}`, why, 'Stop what uses it or pick another port (--port 0 picks a free one)'),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server;
}

/** Refuses an upgrade with a plain HTTP answer, as a real endpoint does for a bad path. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function closeServer(server: http.Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

export function wsUrl(host: string, port: number, path = ''): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `ws://${h}:${port}${path}`;
}

export function httpUrl(host: string, port: number, path = ''): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}${path}`;
}
