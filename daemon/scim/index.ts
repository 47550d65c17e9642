import type { Identity, Store } from '../../store/types.js';
import type { ConnectorEntry } from '../config/schema.js';
import type { ScimConnectorSettings } from './cache-sync.js';
import { createRateLimit, DEFAULT_BURST, DEFAULT_RATE_PER_SECOND } from './rate-limit.js';
import type { ScimEndpoint } from './routes.js';
import { createScimService, type ScimServiceOptions } from './scim-service.js';
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
 * The SCIM endpoint of every `scim` connector of the config. `onPushed` is told of the subjects
 * each write of a `provisionOnPush` connector touched (the background thread's queue).
 */
export function scimEndpoints(
  connectors: readonly ConnectorEntry[],
  store: Store,
  options: Pick<ScimServiceOptions, 'onPushed'> = {},
): ScimEndpoint[] {
  const turns = createTurns();
  return connectors.flatMap((entry) => {
    if (entry.type !== 'scim') return [];
    const settings = scimSettingsOf(entry);
    const limit = (entry.rateLimit ?? {}) as { perSecond?: number; burst?: number };
    return [
      {
        service: createScimService(store, settings, { ...options, turns }),
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
