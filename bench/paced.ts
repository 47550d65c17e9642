import http from 'node:http';

/**
 * An open-loop load generator at a fixed rate, for latency. autocannon's `overallRate` lets each
 * connection send its whole per-second quota back to back at the start of every second (bursts,
 * not a steady rate) and records whole milliseconds; this sends request i at start + i/rate over
 * a pool of keep-alive connections and measures each latency from its scheduled time (so a
 * stall counts against every request it delays: no coordinated omission), to 0.01 ms.
 */

export interface PacedResult {
  rate: number;
  durationSeconds: number;
  sent: number;
  ok: number;
  failed: number;
  latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
}

export async function pacedLoad(options: {
  url: string;
  rate: number;
  durationSeconds: number;
  request: (i: number) => { method: string; path: string; headers: Record<string, string>; body?: string };
}): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.rate * options.durationSeconds);
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let ok = 0;
  let failed = 0;
  const start = performance.now();

  await new Promise<void>((resolve) => {
    const finishOne = () => {
      done++;
      if (done === total) resolve();
    };
    const fire = (i: number, scheduled: number) => {
      const spec = options.request(i);
      const req = http.request(
        { host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers: spec.headers, agent, timeout: 30_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies[i] = performance.now() - scheduled;
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) ok++;
            else failed++;
            finishOne();
          });
        },
      );
      req.on('error', () => {
        latencies[i] = performance.now() - scheduled;
        failed++;
        finishOne();
      });
      req.end(spec.body);
    };
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * options.rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        fire(i, start + (i * 1000) / options.rate);
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();

  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return {
    rate: options.rate,
    durationSeconds: round((performance.now() - start) / 1000),
    sent,
    ok,
    failed,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p99_9: at(0.999), max: round(sorted.at(-1) ?? 0), mean: round(mean) },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
