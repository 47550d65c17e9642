import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One answered HTTP request. */
export interface RequestSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

/** What a listener records of each answer (the SCIM thread's are passed on to the login thread's metrics). */
export interface RequestMetrics {
  recordRequest(sample: RequestSample): void;
}

/** Prometheus metrics of one daemon; a registry per instance, never the global one. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jitsync_' });
  const metrics = {
    registry,
    httpRequests: new Counter({
      name: 'jitsync_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'jitsync_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'jitsync_logins_total',
      help: 'Login hook calls by connector, decision (allow or the deny reason) and group source',
      labelNames: ['connector', 'decision', 'groups_source'] as const,
      registers: [registry],
    }),
    scimPushQueue: new Gauge({
      name: 'jitsync_scim_push_queue_depth',
      help: 'Pushed SCIM subjects waiting to be provisioned (provisionOnPush), by connector',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
    scimPushFailing: new Gauge({
      name: 'jitsync_scim_push_failing',
      help: 'Pushed SCIM subjects whose provisioning failed, waiting to be tried again, by connector',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
  };
  return {
    ...metrics,
    recordRequest({ method, route, status, seconds }: RequestSample): void {
      metrics.httpRequests.inc({ method, route, status });
      metrics.httpDuration.observe({ method, route }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
