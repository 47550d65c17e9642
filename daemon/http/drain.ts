import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { JitsyncServer } from './app.js';

/**
 * The HTTP side of a graceful stop (SIGTERM). Every request received before the stop is
 * answered; answers sent while draining carry `Connection: close`; a request that still arrives
 * on an open keep-alive connection gets `503 shutting_down` with `Connection: close` rather than
 * a reset; idle keep-alive connections are closed once the requests in flight are answered.
 */
/** How long idle keep-alive connections stay open once the requests in flight are answered. */
const IDLE_GRACE_MS = 200;

export class Drain {
  #draining = false;
  #inFlight = 0;
  #onIdle: (() => void) | null = null;

  get draining(): boolean {
    return this.#draining;
  }

  /** Register before every other hook, so that a refused request does no other work. */
  register(app: JitsyncServer): void {
    app.server.on('request', (_request, response) => {
      this.#inFlight++;
      // 'close' follows both a finished answer and a connection lost midway.
      response.once('close', () => {
        this.#inFlight--;
        if (this.#inFlight === 0) this.#onIdle?.();
      });
    });
    app.addHook('onRequest', async (_request, reply) => {
      if (!this.#draining) return;
      reply.header('retry-after', '1');
      throw new AppError(503, 'shutting_down', 'the daemon is stopping; retry the request');
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (this.#draining) reply.header('connection', 'close');
      return payload;
    });
  }

  /**
   * Stops taking connections on every listener (the main one, the SCIM one) and waits until
   * every request received so far is answered, or
   * until `deadline` (epoch ms), when the connections still open are cut. Resolves true when
   * nothing was cut.
   */
  async stop(servers: readonly Server[], deadline: number): Promise<boolean> {
    this.#draining = true;
    // Only stop listening: http.Server#close would also drop the idle keep-alive connections at
    // once, and a request already on its way over one of them would meet a reset.
    for (const server of servers) if (server.listening) NetServer.prototype.close.call(server);
    await this.#settled(deadline);
    // A client that got a keep-alive answer just before the stop may be sending its next request
    // over that connection now: for a moment more, such requests are answered 503.
    await sleep(Math.max(0, Math.min(IDLE_GRACE_MS, deadline - Date.now())));
    await this.#settled(deadline);
    const drained = this.#inFlight === 0;
    for (const server of servers) {
      if (drained) server.closeIdleConnections();
      else server.closeAllConnections();
    }
    return drained;
  }

  /** Resolves when no request is in flight, or at `deadline`. */
  async #settled(deadline: number): Promise<void> {
    if (this.#inFlight === 0) return;
    const idle = new Promise<void>((resolve) => (this.#onIdle = resolve));
    const timer = new AbortController();
    const timeout = sleep(Math.max(0, deadline - Date.now()), undefined, { signal: timer.signal }).catch(() => {});
    await Promise.race([idle, timeout]);
    timer.abort();
    this.#onIdle = null;
  }
}
