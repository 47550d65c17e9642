/**
 * At most one log line per key every `everyMs`: a failure that repeats for every login or every
 * subject shows in the log without flooding it. `allow(key)` answers how many lines of that key
 * were left out since the last one written, or null when this one is left out too.
 */
export function createLogLimit(everyMs: number, clock: () => number = Date.now): (key: string) => number | null {
  const logged = new Map<string, { at: number; suppressed: number }>();
  return (key) => {
    const now = clock();
    const last = logged.get(key);
    if (last && now - last.at < everyMs) {
      last.suppressed++;
      return null;
    }
    logged.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  };
}
