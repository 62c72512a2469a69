import type { IncomingHttpHeaders } from 'node:http';

/** One HTTP request to the simulator's REST side. */
export interface RestRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
}

/** A JSON reply: the body is serialised with JSON.stringify. */
export interface RestReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Answers the request, or undefined when the path is not this route's. */
export type RestRoute = (req: RestRequest) => RestReply | undefined;
