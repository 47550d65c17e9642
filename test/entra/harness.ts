import { entraConfigSchema, type EntraConnectorConfig } from '../../connectors/entra/config.js';
import { createEntraConnector } from '../../connectors/entra/index.js';
import type { CallOptions, CallStats, IdpGroup } from '../../connectors/types.js';
import { FakeEntra, type FakeEntraOptions } from '../fakes/entra/fake-entra.js';

/** A started fake tenant and an Entra connector pointed at it, as the config loader would build it. */
export async function startEntra(
  options: FakeEntraOptions = {},
  overrides: Partial<Record<keyof EntraConnectorConfig, unknown>> = {},
) {
  const fake = new FakeEntra(options);
  await fake.start();
  const config = entraConfigSchema.parse({
    id: 'entra-test',
    type: 'entra',
    tenantId: fake.tenantId,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    authorityHost: fake.baseUrl,
    graphUrl: fake.baseUrl,
    timeoutMs: 5_000,
    ...overrides,
  });
  return { fake, config, connector: createEntraConnector(config) };
}

export function callOptions(): CallOptions & { stats: CallStats } {
  return { signal: AbortSignal.timeout(20_000), stats: { apiCalls: 0, pages: 0, retries: 0 } };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

export function names(groups: IdpGroup[]): string[] {
  return groups.map((g) => g.name).sort();
}
