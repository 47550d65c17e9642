import { fromWire, type WireError } from './wire-errors.js';

/** An answer to a numbered request, as it crosses between threads; `E`: how its error is carried. */
export type Reply<E = WireError> = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: E };

/** Requests sent to another thread, each waiting for its numbered reply. */
export interface PendingReplies<E = WireError> {
  /** Numbers a request; `send` posts it. Resolves with the reply's value, or rejects with its error. */
  request<T>(send: (id: number) => void): Promise<T>;
  settle(reply: Reply<E>): void;
  /** The other thread is gone: every request still waiting fails with `error`. */
  rejectAll(error: Error): void;
}

/** `decode` makes the error of a failed reply again (default: `fromWire`). */
export function pendingReplies<E = WireError>(decode: (error: E) => Error = fromWire as (error: E) => Error): PendingReplies<E> {
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
      else waiter?.reject(decode(reply.error));
    },
    rejectAll(error) {
      for (const waiter of waiting.values()) waiter.reject(error);
      waiting.clear();
    },
  };
}
