import { z } from 'zod';

/**
 * Keys every connector entry in `connectors:` has. A connector's own schema extends this with
 * its type literal and type-specific keys, and is `.strict()` so a misspelt key is an error.
 * `provisioning` overrides are checked by the config loader (daemon/config), which knows them.
 */
export const connectorBaseSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  /** node-cron expression for scheduled pre-warm; absent = on demand only. */
  prewarm: z.string().optional(),
  /** Timeout of one IdP call, in milliseconds. */
  timeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** How many times a call is retried after a 429/5xx/network error before failing. */
  maxRetries: z.number().int().min(0).max(10).default(4),
  provisioning: z.record(z.string(), z.unknown()).optional(),
});

export type ConnectorBaseConfig = z.infer<typeof connectorBaseSchema>;
