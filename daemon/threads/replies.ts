import { fromWire, type WireError } from './wire-errors.js';

/** An answer to a numbered request, as it crosses between threads. */
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** Requests sent to another thread, each waiting for its numbered reply. */
export interface PendingReplies {
  /** Numbers a request; `send` posts it. Resolves with the reply's value, or rejects with its error. */
  request<T>(send: (id: number) => void): Promise<T>;
  settle(reply: Reply): void;
  /** The other thread is gone: every request still waiting fails with `error`. */
  rejectAll(error: Error): void;
}

export function pendingReplies(): PendingReplies {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let next = 0;
  return {
    request<T>(send: (id: number) => void) {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        send(id);
      });
    },
    settle(reply) {
      const waiter = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(fromWire(reply.error));
    },
    rejectAll(error) {
      for (const waiter of waiting.values()) waiter.reject(error);
      waiting.clear();
    },
  };
}
