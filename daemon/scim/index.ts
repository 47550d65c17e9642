import type { Identity, Store } from '../../store/types.js';
import type { ConnectorEntry } from '../config/schema.js';
import type { ScimConnectorSettings } from './cache-sync.js';
import { createRateLimit, DEFAULT_BURST, DEFAULT_RATE_PER_SECOND } from './rate-limit.js';
import type { ScimEndpoint } from './routes.js';
import { createScimService, type ScimService, type ScimServiceOptions } from './scim-service.js';
import { createTurns } from './turns.js';

/** The settings of a `scim` connector's entry (it passed connectors/scim/config.ts: these keys are set). */
export function scimSettingsOf(entry: ConnectorEntry): ScimConnectorSettings {
  return {
    id: entry.id,
    subjectAttribute: entry.subjectAttribute === 'userName' ? 'userName' : 'externalId',
    onDeprovision: entry.onDeprovision === 'remove-memberships' ? 'remove-memberships' : 'disable',
    provisionOnPush: entry.provisionOnPush === true,
  };
}

/**
 * The SCIM service of every `scim` connector of the config, by connector id; their writes take
 * turns together (turns.ts). `onPushed` is told of the subjects each write of a `provisionOnPush`
 * connector touched (the background thread's queue).
 */
export function scimServices(
  connectors: readonly ConnectorEntry[],
  store: Store,
  options: Pick<ScimServiceOptions, 'onPushed'> = {},
): Map<string, ScimService> {
  const turns = createTurns();
  return new Map(
    connectors.flatMap((entry) => (entry.type === 'scim' ? [[entry.id, createScimService(store, scimSettingsOf(entry), { ...options, turns })] as const] : [])),
  );
}

/** The SCIM endpoint of every `scim` connector of the config: its service, token and rate limit. */
export function scimEndpoints(connectors: readonly ConnectorEntry[], store: Store): ScimEndpoint[] {
  const services = scimServices(connectors, store);
  return connectors.flatMap((entry) => {
    const service = services.get(entry.id);
    if (!service) return [];
    const limit = (entry.rateLimit ?? {}) as { perSecond?: number; burst?: number };
    return [
      {
        service,
        token: String(entry.token),
        rateLimit: createRateLimit({ ratePerSecond: limit.perSecond ?? DEFAULT_RATE_PER_SECOND, burst: limit.burst ?? DEFAULT_BURST }),
      },
    ];
  });
}

/** The SCIM user id behind an identity of a `scim` connector, for `GET /v1/users/{id}`; null otherwise. */
export function scimIdLookup(connectors: readonly ConnectorEntry[], store: Store): (identity: Identity) => Promise<string | null> {
  const keys = new Map(
    connectors.flatMap((entry) => (entry.type === 'scim' ? [[entry.id, entry.subjectAttribute === 'userName' ? 'name' : 'externalId'] as const] : [])),
  );
  return async (identity) => {
    const key = keys.get(identity.connector);
    if (key === undefined) return null;
    const [user] = await store.findScimResources(identity.connector, 'User', key, identity.subject);
    return user?.id ?? null;
  };
}
