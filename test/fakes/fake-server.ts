import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * The shared shell of the fake IdP servers: a real HTTP(S) server on a free loopback port, a
 * request log the tests assert on, and faults injected on demand (429 storms, 5xx, slow answers).
 * Each fake supplies `route`, which must answer 404 for anything the vendor's API does not have.
 */

export interface LoggedRequest {
  method: string;
  /** Path without the query string, as sent (still URL-encoded). */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless a string. */
  body?: unknown;
}

export interface Fault {
  /** Which requests it hits; all when absent. */
  match?: (request: LoggedRequest) => boolean;
  /** How many matching requests it answers before it is used up. */
  times: number;
  /** The answer; a function so headers like reset times can be computed per request. */
  response?: FakeResponse | ((request: LoggedRequest) => FakeResponse);
  /** Delay before answering (the normal route or `response`), in ms. */
  delayMs?: number;
  /** Answers only once this settles: a request the test holds for as long as it needs. */
  until?: Promise<void>;
  /** Called as each matching request comes in. */
  onTaken?: () => void;
}

/** Requests held unanswered until the test releases them (`FakeServer.hold`). */
export interface Hold {
  /** Settles when the first held request has come in. */
  arrived: Promise<void>;
  /** Answers the held requests (and any still to come) normally. */
  release(): void;
}

export type Route = (request: LoggedRequest, body: string) => FakeResponse | Promise<FakeResponse>;

export interface FakeServerOptions {
  route: Route;
  tls?: { key: string; cert: string };
}

export class FakeServer {
  readonly requests: LoggedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly holds: Array<() => void> = [];
  private server: http.Server | undefined;
  baseUrl = '';

  constructor(private readonly options: FakeServerOptions) {}

  async start(): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      void this.handle(req, res);
    };
    this.server = this.options.tls ? https.createServer(this.options.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const release of this.holds) release();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Queue a fault; faults are consumed in the order they were added. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /**
   * The next `times` matching requests wait unanswered until `release()` (or `stop()`): for a test
   * that needs a call in flight while it does something else, however long that takes.
   */
  hold(times: number, match?: (request: LoggedRequest) => boolean): Hold {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    this.holds.push(release);
    this.inject({ times, ...(match ? { match } : {}), until: released, onTaken: arrive });
    return { arrived, release };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests whose path matches, for asserting call counts. */
  count(filter?: (request: LoggedRequest) => boolean): number {
    return filter ? this.requests.filter(filter).length : this.requests.length;
  }

  resetLog(): void {
    this.requests.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    };
    let body = '';
    for await (const chunk of req) body += chunk;
    this.requests.push(request);

    let response: FakeResponse;
    try {
      const fault = this.takeFault(request);
      fault?.onTaken?.();
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.until) await fault.until;
      if (fault?.response) {
        response = typeof fault.response === 'function' ? fault.response(request) : fault.response;
      } else {
        response = await this.options.route(request, body);
      }
    } catch (error) {
      response = { status: 500, body: { error: String(error) } };
    }
    if (res.destroyed) return;
    const payload = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
    res.writeHead(response.status, {
      'content-type': 'application/json',
      date: new Date().toUTCString(),
      ...response.headers,
    });
    res.end(response.body === undefined ? undefined : payload);
  }

  private takeFault(request: LoggedRequest): Fault | undefined {
    const index = this.faults.findIndex((f) => !f.match || f.match(request));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }
}
