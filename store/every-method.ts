/** `T`'s methods as they may be written before `around` makes each one asynchronous. */
export type MethodsOf<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R | Promise<R> : never;
};

/**
 * Runs every method of `methods` through `around` (error mapping, lock waits, the change feed).
 * Written once for both backends, so that no store method can be left out.
 */
export function everyMethod<T>(
  methods: MethodsOf<T>,
  around: <R>(name: string, args: readonly unknown[], call: () => R | Promise<R>) => Promise<R>,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods) as Array<[string, (...args: unknown[]) => unknown]>) {
    wrapped[name] = (...args: unknown[]) => around(name, args, () => method(...args));
  }
  return wrapped as T;
}
